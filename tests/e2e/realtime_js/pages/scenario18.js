// Scenario 18 as the three apps live it, in one page: the display, the barista and the customer each sign in
// with SRP, have their IoT policy attached (POST /realtime), take their identity's credentials and listen
// over MQTT; the page POSTs what each saw to /result. tests/e2e/test_realtime_browser.py serves it with
// window.SETTINGS (serve's outputs file) and window.DRINK.
const S = window.SETTINGS, R = window.ShopRealtime, out = S.outputs, drink = window.DRINK;
const log = [];
const until = async (check, what, ms = 30000) => {
  const end = Date.now() + ms;
  for (;;) { const value = await check(); if (value) return value;
    if (Date.now() > end) throw new Error("gave up waiting for " + what); await new Promise(r => setTimeout(r, 100)); }
};
const api = (token) => async (method, url, body) => {
  const init = {method, headers: {Authorization: "Bearer " + token}};
  if (body !== undefined) { init.body = JSON.stringify(body); init.headers["Content-Type"] = "application/json"; }
  const answer = await fetch(url, init);
  const text = await answer.text();
  return {status: answer.status, body: text ? JSON.parse(text) : null};
};
// One app: signs in (SRP), has its IoT policy attached, takes its identity's credentials, connects.
async function app(role, topicsOf) {
  const user = S.users[role];
  const tokens = await R.signIn({region: out.region, userPoolId: out.userPoolId, clientId: out.userPoolWebClientId,
                                 cognitoEndpoint: S.awsEndpoint + "/", email: user.email, password: user.password});
  const call = api(tokens.accessToken);
  const attached = await call("POST", out.APIGWEndpointRealtime + "/realtime", {idToken: tokens.idToken});
  if (attached.status !== 200) throw new Error(role + ": POST /realtime " + attached.status);
  const heard = [];
  const connectWith = async (suffix) => {
    const credentials = await R.identityCredentials({region: out.region, identityPoolId: out.poolId,
      endpoint: S.awsEndpoint + "/", userPoolId: out.userPoolId, idToken: tokens.idToken});
    const url = await R.signedUrl({host: out.host, region: out.region, credentials});
    const client = await R.connect({url, clientId: "serverlesspresso-" + role + suffix + "-" + Date.now()});
    R.onMessage(client, (topic, message) => heard.push({topic, message}));
    return client;
  };
  const client = await connectWith("");
  for (const topic of topicsOf(tokens.sub)) await R.subscribe(client, topic);
  return {tokens, call, heard, client, connectWith, types: (topic) => heard.filter(m => m.topic === topic).map(m => m.message.type)};
}
const STAFF = "serverlesspresso-admin", CONFIG = "serverlesspresso-config", mine = (sub) => "serverlesspresso-user-" + sub;
async function run() {
  const shown = [];
  const show = (n) => { const text = n + " drink(s) remaining"; document.getElementById("display").textContent = text; shown.push(text); };
  const display = await app("admin", () => [STAFF, CONFIG]);
  const barista = await app("barista", () => [STAFF, CONFIG]);
  const customer = await app("customer", (sub) => [mine(sub), CONFIG]);
  R.onMessage(display.client, (topic, m) => { if (m.type === "Validator.NewOrder") show(m.detail.bucket.availableTokens); });
  const qr = await display.call("GET", out.APIGWEndpointValidatorService + "/qr-code");
  show(qr.body.bucket.availableTokens);
  const code = qr.body.bucket.last_code;

  const scanned = await customer.call("POST", out.APIGWEndpointValidatorService + "/qr-code?token=" + encodeURIComponent(code));
  const orderId = scanned.body.orderId;
  await until(() => shown.length > 1, "the display to hear the scan");
  await until(async () => (await customer.call("GET", out.orderManagerEndpoint + "/orders/" + orderId)).status === 200, "the order");
  const placed = await customer.call("PUT", out.orderManagerEndpoint + "/orders/" + orderId,
                                     {userId: customer.tokens.sub, ...drink});
  const ownTopic = mine(customer.tokens.sub);
  await until(() => customer.types(ownTopic).includes("OrderManager.WaitingCompletion"), "the customer's queued status");
  await until(() => barista.heard.some(m => m.topic === STAFF && m.message.type === "OrderManager.WaitingCompletion"
                                          && m.message.detail.orderId === orderId), "the barista's queue");
  const make = await barista.call("PUT", out.orderManagerEndpoint + "/orders/" + orderId + "?action=make");
  await until(() => customer.types(ownTopic).includes("OrderManager.MakeOrder"), "the customer's making status");
  const complete = await barista.call("PUT", out.orderManagerEndpoint + "/orders/" + orderId + "?action=complete");
  await until(() => customer.types(ownTopic).includes("OrderManager.OrderCompleted"), "the customer's completed status");

  const closed = await barista.call("PUT", out.APIGWEndpointConfigService + "/store?state=closed");
  const heardClosed = (a, topic) => a.heard.some(m => m.topic === topic && m.message.type === "ConfigService.ConfigChanged"
                                                   && m.message.detail.NewImage.storeOpen.BOOL === false);
  await until(() => heardClosed(display, CONFIG) && heardClosed(barista, STAFF) && heardClosed(customer, CONFIG), "closing to reach every app");

  const refusals = {};
  for (const [name, topic] of [["staff", STAFF], ["otherCustomer", mine(barista.tokens.sub)]]) {
    const second = await customer.connectWith("-" + name);
    try { await R.subscribe(second, topic); refusals[name] = "granted"; }
    catch (error) { refusals[name] = error.message; }
    second.end(true);
  }
  return {shown, orderId, placed: placed.status, make: make.status, complete: complete.status, closed: closed.status,
          customerStatuses: customer.types(ownTopic), displayTypes: display.types(STAFF), refusals,
          staffHeardCodes: JSON.stringify(display.heard).includes(code)};
}
run().then(r => fetch("/result", {method: "POST", body: JSON.stringify(r)}),
           e => fetch("/result", {method: "POST", body: JSON.stringify({error: String(e && e.stack || e)})}));
