// The shell: a left-hand menu, the page of the current URL, the theme and the session. Signed-out
// visitors of a private page go to sign-in and come back after (?next=).
import { useEffect, useRef, useState } from "preact/hooks";
import { type User, api, setUnauthorizedHandler } from "./api/client";
import { type LinkState, events } from "./api/events";
import { Link } from "./components/ui";
import { Alarms, useActiveAlarms } from "./pages/Alarms";
import { Baselines } from "./pages/Baselines";
import { Credits } from "./pages/Credits";
import { Device } from "./pages/Device";
import { Fleet } from "./pages/Fleet";
import { Audit } from "./pages/Audit";
import { Health } from "./pages/Health";
import { Model } from "./pages/Model";
import { Models } from "./pages/Models";
import { Predict } from "./pages/Predict";
import { RecordPage, Records } from "./pages/Records";
import { Profile } from "./pages/Profile";
import { RolloutNew } from "./pages/RolloutNew";
import { Rollout, Rollouts } from "./pages/Rollouts";
import { Sensor, Sensors } from "./pages/Sensors";
import { SignIn } from "./pages/SignIn";
import { Task, Tasks } from "./pages/Tasks";
import { SignUp } from "./pages/SignUp";
import { Users } from "./pages/Users";
import { type Route, home, matchRoute, navigate, useLocation } from "./router";
import { SessionContext } from "./session";
import { type ThemeChoice, applyTheme, storedTheme } from "./theme";

const titles: Record<Route["page"], string> = {
  "sign-in": "Sign in",
  "sign-up": "Create an account",
  models: "Models",
  model: "Model",
  predict: "Predict",
  fleet: "Fleet",
  device: "Device",
  rollouts: "Rollouts",
  "rollout-new": "Start a rollout",
  rollout: "Rollout",
  alarms: "Alarms",
  sensors: "Sensors",
  sensor: "Sensor",
  baselines: "Baselines",
  records: "Records",
  record: "Record",
  tasks: "Tasks",
  task: "Task",
  credits: "Credits",
  profile: "Profile",
  "admin-users": "Users",
  "admin-audit": "Audit log",
  "admin-health": "Health",
  "not-found": "Not found",
};

// Who is signed in, asked as soon as the script runs rather than after the first render: the
// first page waits on it (S12: about 60 ms earlier on a cold load).
const whoAmI = api.get("/api/v1/auth/me", {});

export function App() {
  const [user, setUser] = useState<User | null | undefined>(undefined);
  const { pathname, search } = useLocation();
  const route = matchRoute(pathname === "/" ? home : pathname);

  useEffect(() => {
    whoAmI.then((r) => setUser(r.ok ? r.data : null));
    setUnauthorizedHandler(() => setUser(null));
    return () => setUnauthorizedHandler(null);
  }, []);

  // Signed out on a private page: to sign-in, then back. Signed in on sign-in/up: home.
  const redirect =
    user === null && !route.public
      ? `/sign-in?next=${encodeURIComponent(pathname + search)}`
      : user && (route.page === "sign-in" || route.page === "sign-up")
        ? home
        : pathname === "/" ? home : null;
  useEffect(() => {
    if (redirect) navigate(redirect, { replace: true });
  }, [redirect]);

  // Each page its title; after a move within the console, focus on the new page's heading (where
  // screen readers and keyboards start; a fresh load starts at the top, at the skip link).
  const moved = useRef(false);
  useEffect(() => {
    const name =
      route.page === "model" || route.page === "device" || route.page === "sensor"
        ? route.params.name
        : route.page === "rollout"
          ? `Rollout #${route.params.id}`
          : route.page === "task"
            ? `Task #${route.params.id}`
          : route.page === "record"
            ? `Record #${route.params.id}`
          : titles[route.page];
    document.title = `${name} · Vigil`;
    if (moved.current) document.querySelector<HTMLElement>("main h1")?.focus();
  }, [pathname, user === undefined]);
  useEffect(() => {
    if (user !== undefined && !redirect) moved.current = true;
  }, [pathname, user === undefined]);

  return (
    <SessionContext.Provider value={{ user, setUser }}>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <div class="layout">
        <Menu route={route} user={user} onSignedOut={() => setUser(null)} />
        <main id="main" tabIndex={-1}>
          {user === undefined || redirect ? <p aria-busy="true">Loading…</p> : <Content route={route} search={search} />}
        </main>
      </div>
    </SessionContext.Provider>
  );
}

function Content({ route, search }: { route: Route; search: string }) {
  switch (route.page) {
    case "sign-in":
      return <SignIn search={search} />;
    case "sign-up":
      return <SignUp />;
    case "models":
      return <Models />;
    case "model":
      return <Model name={route.params.name ?? ""} search={search} />;
    case "predict":
      return <Predict name={route.params.name} />;
    case "fleet":
      return <Fleet search={search} />;
    case "device":
      return <Device name={route.params.name ?? ""} search={search} />;
    case "rollouts":
      return <Rollouts search={search} />;
    case "rollout-new":
      return <RolloutNew search={search} />;
    case "rollout":
      return <Rollout id={route.params.id ?? ""} search={search} />;
    case "alarms":
      return <Alarms search={search} />;
    case "sensors":
      return <Sensors search={search} />;
    case "sensor":
      return <Sensor name={route.params.name ?? ""} search={search} />;
    case "baselines":
      return <Baselines />;
    case "records":
      return <Records search={search} />;
    case "record":
      return <RecordPage id={route.params.id ?? ""} search={search} />;
    case "tasks":
      return <Tasks search={search} />;
    case "task":
      return <Task id={route.params.id ?? ""} />;
    case "credits":
      return <Credits />;
    case "profile":
      return <Profile />;
    case "admin-users":
      return <Users />;
    case "admin-audit":
      return <Audit search={search} />;
    case "admin-health":
      return <Health />;
    case "not-found":
      return (
        <>
          <h1 tabIndex={-1}>No page here</h1>
          <p>
            Nothing lives at this address. Go to the <Link href={home}>models</Link>.
          </p>
        </>
      );
  }
}

function Menu({ route, user, onSignedOut }: { route: Route; user: User | null | undefined; onSignedOut: () => void }) {
  const item = (href: string, label: string, active: boolean, badge = "") => (
    <li>
      <Link href={href} aria-current={active ? "page" : undefined}>
        {label}
        {badge && (
          <span class="badge">
            <span class="visually-hidden">, </span>
            {badge}
            <span class="visually-hidden"> active</span>
          </span>
        )}
      </Link>
    </li>
  );
  const activeAlarms = useActiveAlarms(Boolean(user));
  const signOut = async () => {
    events.close(); // the server does not end an open socket when its session is revoked
    await api.post("/api/v1/auth/logout", {});
    onSignedOut();
    navigate("/sign-in?signed-out", { replace: true });
  };
  return (
    <nav aria-label="Main">
      <Link href={home} class="brand">
        Vigil
      </Link>
      <ul>
        {user ? (
          <>
            {item("/models", "Models", route.page === "models" || route.page === "model")}
            {item("/predict", "Predict", route.page === "predict")}
            {item("/fleet", "Fleet", route.page === "fleet" || route.page === "device")}
            {item("/rollouts", "Rollouts", route.page.startsWith("rollout"))}
            {item("/sensors", "Sensors", route.page === "sensors" || route.page === "sensor")}
            {item("/baselines", "Baselines", route.page === "baselines")}
            {item("/records", "Records", route.page === "records" || route.page === "record")}
            {item("/alarms", "Alarms", route.page === "alarms", activeAlarms)}
            {item("/tasks", "Tasks", route.page === "tasks" || route.page === "task")}
            {item("/credits", "Credits", route.page === "credits")}
            {item("/profile", "Profile", route.page === "profile")}
            {user.role === "admin" && (
              <li>
                <span class="menu-group" id="menu-admin">Admin</span>
                <ul aria-labelledby="menu-admin">
                  {item("/admin/users", "Users", route.page === "admin-users")}
                  {item("/admin/audit", "Audit log", route.page === "admin-audit")}
                  {item("/admin/health", "Health", route.page === "admin-health")}
                </ul>
              </li>
            )}
          </>
        ) : (
          <>
            {item("/sign-in", "Sign in", route.page === "sign-in")}
            {item("/sign-up", "Create an account", route.page === "sign-up")}
          </>
        )}
        <li>
          <a href="/docs">API docs</a>
        </li>
      </ul>
      <div class="menu-foot">
        <ThemePicker />
        {user && (
          <>
            <LiveStatus />
            <p class="who">
              Signed in as <strong>{user.email}</strong>
            </p>
            <button type="button" onClick={signOut}>
              Sign out
            </button>
          </>
        )}
      </div>
    </nav>
  );
}

function ThemePicker() {
  const [choice, setChoice] = useState<ThemeChoice>(storedTheme);
  const choose = (c: ThemeChoice) => {
    applyTheme(c);
    setChoice(c);
  };
  return (
    <div class="field theme">
      <label for="theme">Theme</label>
      <select id="theme" value={choice} onChange={(e) => choose(e.currentTarget.value as ThemeChoice)}>
        <option value="system">As the system</option>
        <option value="light">Light</option>
        <option value="dark">Dark</option>
      </select>
    </div>
  );
}

// Whether live updates (the events WebSocket) are flowing; pages that listen share the socket.
function LiveStatus() {
  const [state, setState] = useState<LinkState>(events.state);
  useEffect(() => {
    const stopState = events.onState(setState);
    const stop = events.listen(["system"], () => {});
    return () => {
      stop();
      stopState();
    };
  }, []);
  const words = { live: "on", connecting: "connecting…", offline: "off, retrying" }[state];
  return (
    <p class={`live ${state}`} role="status">
      Live updates: {words}
    </p>
  );
}
