// Package web is the dynpool console: server-rendered HTML pages for
// tenants and operators, served by `dynpool server` under /console/.
// Templates and static files are embedded ([html/template], [embed]); there
// is no JavaScript build step, and every page reads without JavaScript.
// The one script, static/log.js, follows a running task's log through
// server-sent events.
//
// # Flow
//
// The server hands [New] a [Backend]: the functions its JSON API handlers
// call (pool list, pool update, task submit, log stream, ...), so the
// console shows and changes exactly what the API does, with the same
// validation and the same 404 for another tenant's pool or task. A page
// handler checks the session, calls the Backend, and renders a template;
// a Backend error becomes the status and message the API would answer
// ([Backend.Describe]).
//
// # Sessions
//
// Signing in takes a tenant API key or the admin token, checks it through
// [Backend.SignIn], and sets the cookie "dynpool_session" (HttpOnly,
// SameSite=Strict, Path=/console/, Secure when the request came over TLS).
// The cookie holds a signed session, not the token: the token never
// rests in the browser, and a stolen cookie expires with its session
// ([Config.SessionTTL], default 8 h, measured on the injected clock). The
// session names the tenant and a fingerprint of its API key hash, signed
// with HMAC-SHA-256 under [Config.SessionKey]; each request re-reads the
// tenant, so a session ends when its tenant or key is gone. The server
// derives the key from the admin token, so replicas sharing the admin
// token accept each other's sessions and changing the token signs
// everyone out.
//
// # CSRF
//
// Every POST must come from the console's own origin: its Origin header
// (or, when a browser sends none, its Referer) must name the request's
// host, else 403. Forms of a signed-in user also carry a token derived
// from the session (HMAC of its random nonce) that must match, else 403.
// With SameSite=Strict on top, a cross-site form can neither send the
// cookie nor pass the checks.
package web
