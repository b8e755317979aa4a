// Personal settings → Token expiration: changing a profile's own switches
// chooses "Set by profile", so that Save keeps them.
document.addEventListener("change", (event) => {
  const form = event.target.closest("form[data-preferences]");
  if (!form || event.target.type !== "checkbox" || !event.target.closest(".by-profile")) return;
  const byProfile = form.querySelector('input[name="scope"][value="profile"]');
  if (byProfile) byProfile.checked = true;
});
