// Who is signed in: the answer of GET /api/v1/auth/me (the session cookie is HttpOnly, so the
// console asks rather than reads it). undefined while asking, null when signed out.
import { createContext } from "preact";
import { useContext } from "preact/hooks";
import type { User } from "./api/client";

export interface Session {
  user: User | null | undefined;
  setUser: (u: User | null) => void;
}

export const SessionContext = createContext<Session>({ user: undefined, setUser: () => {} });

export function useSession(): Session {
  return useContext(SessionContext);
}
