// The shop's apps reach AWS IoT realtime as a Cognito user with these client libraries; the e2e tests
// load this file (bundled by build.mjs into the global `ShopRealtime`) into headless Chromium.
import {
  AuthenticationDetails,
  CognitoUser,
  CognitoUserPool,
} from "amazon-cognito-identity-js";
import {
  CognitoIdentityClient,
  GetCredentialsForIdentityCommand,
  GetIdCommand,
} from "@aws-sdk/client-cognito-identity";
import { SignatureV4 } from "@smithy/signature-v4";
import { Sha256 } from "@aws-crypto/sha256-js";
import mqtt from "mqtt";

// Signs a user in to the user pool with a password (SRP), and returns their tokens, id and groups.
export async function signIn({ region, userPoolId, clientId, cognitoEndpoint, email, password }) {
  // amazon-cognito-identity-js takes the region from the pool id; `region` is accepted for symmetry.
  void region;
  const pool = new CognitoUserPool({ UserPoolId: userPoolId, ClientId: clientId, endpoint: cognitoEndpoint });
  const user = new CognitoUser({ Username: email, Pool: pool });
  const details = new AuthenticationDetails({ Username: email, Password: password });
  const session = await new Promise((resolve, reject) => {
    const stuck = (what) => () => reject(new Error(`sign-in of ${email} needs ${what}`));
    user.authenticateUser(details, {
      onSuccess: resolve,
      onFailure: (err) => reject(err instanceof Error ? err : new Error(String(err && err.message || err))),
      newPasswordRequired: stuck("a new password"),
      mfaRequired: stuck("an MFA code"),
      totpRequired: stuck("a TOTP code"),
      selectMFAType: stuck("an MFA type"),
      mfaSetup: stuck("MFA setup"),
      customChallenge: stuck("a custom challenge"),
    });
  });
  const payload = session.getIdToken().decodePayload();
  return {
    idToken: session.getIdToken().getJwtToken(),
    accessToken: session.getAccessToken().getJwtToken(),
    sub: payload.sub,
    groups: payload["cognito:groups"] || [],
  };
}

// Trades a user's ID token (or nothing, for a guest) for the identity pool's temporary AWS credentials.
export async function identityCredentials({ region, identityPoolId, endpoint, userPoolId, idToken }) {
  // GetId and GetCredentialsForIdentity are unsigned calls; static placeholder credentials keep the
  // client from ever looking for a credential provider of its own.
  const client = new CognitoIdentityClient({
    region,
    endpoint,
    credentials: { accessKeyId: "unused", secretAccessKey: "unused" },
  });
  const logins = idToken ? { Logins: { [`cognito-idp.${region}.amazonaws.com/${userPoolId}`]: idToken } } : {};
  const { IdentityId } = await client.send(new GetIdCommand({ IdentityPoolId: identityPoolId, ...logins }));
  const { Credentials } = await client.send(
    new GetCredentialsForIdentityCommand({ IdentityId, ...logins }),
  );
  const expiration = Credentials.Expiration;
  return {
    identityId: IdentityId,
    accessKeyId: Credentials.AccessKeyId,
    secretAccessKey: Credentials.SecretKey,
    sessionToken: Credentials.SessionToken,
    expiration: expiration instanceof Date ? expiration.toISOString() : expiration != null ? new Date(expiration).toISOString() : undefined,
  };
}

// Strict RFC 3986 escaping, the same as SigV4 uses in its canonical query.
const escape = (text) =>
  encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

// Builds the signed wss:// address of AWS IoT's MQTT-over-WebSocket endpoint for these credentials.
export async function signedUrl({ host, region, credentials, now }) {
  // Presigned with @smithy/signature-v4's own `presign`: the session token is withheld from the
  // signer (AWS IoT does not sign it) and appended to the address after the signature.
  const signer = new SignatureV4({
    service: "iotdevicegateway",
    region,
    sha256: Sha256,
    credentials: { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey },
  });
  const signed = await signer.presign(
    { method: "GET", protocol: "wss:", hostname: host, path: "/mqtt", query: {}, headers: { host } },
    { signingDate: now || new Date(), signableHeaders: new Set(["host"]) },
  );
  let query = Object.entries(signed.query)
    .map(([key, value]) => `${escape(key)}=${escape(value)}`)
    .join("&");
  if (credentials.sessionToken) {
    query += `&X-Amz-Security-Token=${escape(credentials.sessionToken)}`;
  }
  return `wss://${host}/mqtt?${query}`;
}

// Opens an MQTT 3.1.1 connection over that address, settling once the broker answers or refuses.
export function connect({ url, clientId }) {
  return new Promise((resolve, reject) => {
    let socket = null;
    let closeEvent = null;
    let settled = false;
    const client = mqtt.connect(url, {
      clientId,
      protocolVersion: 4,
      clean: true,
      keepalive: 30,
      reconnectPeriod: 0,
      // Plain timers for the keepalive: mqtt's default in a page starts a Blob worker, which a page's
      // Content-Security-Policy may forbid; a test page stays in the foreground anyway.
      timerVariant: "native",
      // Our own socket, so the close code and reason can be told when the connection is refused.
      createWebsocket: (address, protocols) => {
        socket = new WebSocket(address, protocols);
        socket.addEventListener("close", (event) => {
          closeEvent = event;
        });
        return socket;
      },
    });
    // The client may report the end (on the socket's error) before the socket's own close event.
    const socketClosed = () =>
      new Promise((done) => {
        if (closeEvent || !socket) return done();
        const timer = setTimeout(done, 2000);
        socket.addEventListener("close", () => {
          clearTimeout(timer);
          done();
        });
      });
    const closeCode = () =>
      closeEvent ? `close code ${closeEvent.code}${closeEvent.reason ? `, reason "${closeEvent.reason}"` : ""}` : "no close code";
    const settle = (error) => {
      if (settled) return;
      settled = true;
      client.removeListener("connect", onConnect);
      client.removeListener("error", onError);
      client.removeListener("close", onClose);
      if (error) {
        client.end(true);
        reject(error);
      } else {
        // Later errors are kept on the client rather than thrown from an event with no listener.
        client.on("error", (err) => {
          client.lastError = err;
        });
        resolve(client);
      }
    };
    const onConnect = () => settle(null);
    const onError = async (err) => {
      // A refusing CONNACK leaves the socket open; a failed socket is closing, so wait for its code.
      if (!socket || socket.readyState !== WebSocket.OPEN) await socketClosed();
      settle(new Error(`connection failed: ${err && err.message ? err.message : err} (${closeCode()})`));
    };
    const onClose = async () => {
      await socketClosed();
      settle(new Error(`connection closed before CONNACK (${closeCode()})`));
    };
    client.on("connect", onConnect);
    client.on("error", onError);
    client.on("close", onClose);
  });
}

// Subscribes to one topic and tells the granted QoS, or fails if the broker refuses or hangs up.
export function subscribe(client, topic) {
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (error, qos) => {
      if (settled) return;
      settled = true;
      client.removeListener("close", onClose);
      if (error) reject(error);
      else resolve(qos);
    };
    const refused = (cause) => {
      const error = new Error(`refused: ${topic}`);
      if (cause) error.cause = cause;
      return error;
    };
    const onClose = () => finish(refused(new Error("connection closed before SUBACK")));
    client.on("close", onClose);
    if (!client.connected) {
      finish(refused(new Error("not connected")));
      return;
    }
    client.subscribe(topic, { qos: 0 }, (err, granted) => {
      if (err) {
        finish(refused(err));
        return;
      }
      const qos = granted && granted[0] ? granted[0].qos : undefined;
      if (qos === undefined || qos === 128) finish(refused());
      else finish(null, qos);
    });
  });
}

// Hands every message that arrives to the callback, as parsed JSON when it is JSON, else as text.
export function onMessage(client, callback) {
  const decoder = new TextDecoder();
  client.on("message", (topic, payload) => {
    const text = typeof payload === "string" ? payload : decoder.decode(payload);
    let body;
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
    callback(topic, body);
  });
}
