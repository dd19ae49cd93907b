// The login form, shown when the gateway asks for a login (an answer 401).
import { login } from "./api.js";

let onSuccess = () => {};

/** Shows the form; `then` runs once the gateway took the user name and password. */
export function showLogin(then) {
  onSuccess = then;
  document.body.classList.add("logged-out");
  document.getElementById("login").hidden = false;
  document.getElementById("user").focus();
}

/** Wires the form once. */
export function setUpLogin() {
  const form = document.getElementById("login-form");
  const problem = document.getElementById("login-error");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    problem.textContent = "";
    try {
      if (await login(form.elements.user.value, form.elements.password.value)) {
        form.reset();
        document.getElementById("login").hidden = true;
        document.body.classList.remove("logged-out");
        onSuccess();
      } else {
        problem.textContent = "The user name or the password is wrong.";
        form.elements.password.select();
      }
    } catch (error) {
      problem.textContent = `The gateway did not answer: ${error.message}`;
    } finally {
      button.disabled = false;
    }
  });
}
