// Light, dark, or the system's choice; kept in localStorage and applied as <html data-theme>.
export type ThemeChoice = "system" | "light" | "dark";

const key = "vigil-theme";

export function storedTheme(): ThemeChoice {
  const v = localStorage.getItem(key);
  return v === "light" || v === "dark" ? v : "system";
}

export function applyTheme(choice: ThemeChoice): void {
  const dark = choice === "dark" || (choice === "system" && matchMedia("(prefers-color-scheme: dark)").matches);
  document.documentElement.dataset.theme = dark ? "dark" : "light";
  if (choice === "system") localStorage.removeItem(key);
  else localStorage.setItem(key, choice);
}
