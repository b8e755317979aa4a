// The service worker of web push ("mobile notifications"): shows each
// notice the portal sends, and opens its link when it is clicked.
self.addEventListener("push", function (event) {
  var notice = {};
  try { notice = event.data ? event.data.json() : {}; } catch (error) { notice = { title: event.data.text() }; }
  event.waitUntil(self.registration.showNotification(notice.title || "Keepalive", {
    body: notice.body || "",
    tag: notice.tag,
    icon: "/static/icons/keepalive.svg",
    data: { url: notice.url || "/" }
  }));
});

self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  var url = (event.notification.data && event.notification.data.url) || "/";
  event.waitUntil(self.clients.matchAll({ type: "window", includeUncontrolled: true }).then(function (windows) {
    for (var i = 0; i < windows.length; i++) {
      if (windows[i].url === url && "focus" in windows[i]) return windows[i].focus();
    }
    return self.clients.openWindow(url);
  }));
});
