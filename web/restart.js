// The one action the page offers: restarting a quarantined plugin, after a confirmation.
import { action } from "./api.js";
import { guarded, pollStatus } from "./live.js";
import { changed, state } from "./store.js";

/** Asks whether to restart plugin `name`, and restarts it if the person confirms. */
export function confirmRestart(name) {
  const dialog = document.getElementById("restart-dialog");
  const opener = document.activeElement;
  dialog.querySelector("[data-name]").textContent = name;
  dialog.returnValue = "";
  dialog.addEventListener(
    "close",
    () => {
      if (dialog.returnValue === "restart") restart(name);
      else opener?.focus?.();
    },
    { once: true }
  );
  dialog.showModal();
  dialog.querySelector("[value=cancel]").focus();
}

async function restart(name) {
  await guarded(async () => {
    const reply = await action(`/api/v1/plugins/${encodeURIComponent(name)}/restart`);
    state.notice = reply.ok
      ? { kind: "good", text: `Wharf is restarting plugin ${name}.` }
      : { kind: "bad", text: `Plugin ${name} was not restarted: ${reply.text || "the gateway answered " + reply.status}.` };
    changed();
    await pollStatus();
  });
  document.getElementById("notice")?.focus();
}
