import type { ComponentChildren } from "preact";
import { Empty } from "../components/ui";
import { useSession } from "../session";

// The admin pages' frame: their heading, and for anyone else a word on why there is nothing
// (the menu does not offer these pages to them, but a shared link can).
export function AdminOnly({ title, children }: { title: string; children: ComponentChildren }) {
  const { user } = useSession();
  return (
    <>
      <h1 tabIndex={-1}>{title}</h1>
      {user?.role === "admin" ? (
        children
      ) : (
        <Empty title="For admins only">
          <p>This page is for admins. Ask an admin if you need what it shows.</p>
        </Empty>
      )}
    </>
  );
}
