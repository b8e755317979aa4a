// "Subscribe this browser": registers the service worker (/sw.js), asks the
// browser's push service for a subscription with the server's VAPID public
// key (PushManager.subscribe), and gives it to the portal; or undoes that.
(function () {
  function keyBytes(base64url) {
    var padded = base64url.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((base64url.length + 3) % 4);
    var raw = atob(padded);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }

  function post(url, body) {
    var token = document.querySelector('meta[name="csrf-token"]').content;
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token },
      body: JSON.stringify(body)
    }).then(function (response) {
      if (response.ok) return response;
      // A refusal says why in the person's language ({"error", "message"}).
      return response.json().catch(function () { return {}; }).then(function (answer) {
        var error = new Error(response.status);
        error.refusal = answer.message;
        throw error;
      });
    });
  }

  function init(root) {
    if (root.dataset.pushReady) return;
    root.dataset.pushReady = "1";
    var subscribe = root.querySelector("[data-push-subscribe]");
    var unsubscribe = root.querySelector("[data-push-unsubscribe]");
    var status = root.querySelector("[data-push-status]");
    var messages = root.querySelector("[data-push-messages]").content;
    function say(key) { status.textContent = messages.querySelector('[data-key="' + key + '"]').textContent; }
    function show(subscribed) { subscribe.hidden = subscribed; unsubscribe.hidden = !subscribed; }

    if (!("serviceWorker" in navigator) || !("PushManager" in window)) { say("unsupported"); return; }
    var ready = navigator.serviceWorker.register("/sw.js", { scope: "/" }).then(function () {
      return navigator.serviceWorker.ready;
    });
    ready.then(function (registration) { return registration.pushManager.getSubscription(); })
      .then(function (subscription) { show(!!subscription); });

    subscribe.addEventListener("click", function () {
      Notification.requestPermission().then(function (permission) {
        if (permission !== "granted") { say("denied"); return; }
        return ready.then(function (registration) {
          return registration.pushManager.subscribe({
            userVisibleOnly: true, applicationServerKey: keyBytes(root.dataset.publicKey)
          });
        }).then(function (subscription) {
          return post(root.dataset.subscribeUrl, subscription.toJSON());
        }).then(function () { show(true); say("subscribed"); });
      }).catch(function (error) {
        if (!error.refusal) { say("failed"); return; }
        status.textContent = error.refusal;
        return ready.then(function (registration) { return registration.pushManager.getSubscription(); })
          .then(function (subscription) { return subscription && subscription.unsubscribe(); });
      });
    });

    unsubscribe.addEventListener("click", function () {
      ready.then(function (registration) { return registration.pushManager.getSubscription(); })
        .then(function (subscription) {
          if (!subscription) return;
          return post(root.dataset.unsubscribeUrl, { endpoint: subscription.endpoint })
            .then(function () { return subscription.unsubscribe(); });
        }).then(function () { show(false); say("unsubscribed"); })
        .catch(function () { say("failed"); });
    });
  }

  function scan() { document.querySelectorAll("[data-push]").forEach(init); }
  document.addEventListener("DOMContentLoaded", scan);
  document.addEventListener("htmx:load", scan);
})();
