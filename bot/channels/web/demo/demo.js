/* The demo page's own script (a file, not inline: the page's CSP allows no inline script).
 * Loaded before the widget (not deferred), so the widget finds its configuration. */
// The page's language: ?lang=en, else Chinese. The widget follows it unless the visitor
// picks a language in the widget itself.
if (new URLSearchParams(window.location.search).get("lang") === "en") {
  document.documentElement.lang = "en";
  document.title = "2024 National Cyber Security Publicity Week · demo page";
}
window.CyberweekChatConfig = {
  // serverUrl: "https://assistant.example.cn",  // default: where the script comes from
  title: { zh: "宣传周智能助手", en: "Cyber Week Assistant" }
};
