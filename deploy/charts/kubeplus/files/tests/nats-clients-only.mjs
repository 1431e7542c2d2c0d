// `helm test`: the chart's NATS answers only clients with a certificate of its CA. The same exchange (INFO, TLS
// verified against the chart's CA, CONNECT, PING) is made twice: without a client certificate it must be refused, and
// with the provider's certificate (CERT_DIR) it must get PONG, so a refusal is NATS's doing, not a broken path.
import { readFileSync } from "node:fs";
import { connect as netConnect } from "node:net";
import { connect as tlsConnect } from "node:tls";

const host = process.env.NATS_HOST ?? "nats";
// Where to connect, when not to NATS_HOST itself (a test of this script); the server's certificate must name NATS_HOST.
const address = process.env.NATS_ADDRESS ?? host;
const port = Number(process.env.NATS_PORT ?? "4222");
const ca = readFileSync(`${process.env.CA_DIR ?? "/etc/kubeplus/nats-ca"}/ca.crt`);
const certDir = process.env.CERT_DIR ?? "/etc/kubeplus/nats";

/** One client's exchange; resolves to "PONG", or to why the server closed, refused or failed it. */
function exchange(credential) {
  return new Promise((resolve) => {
    const timer = setTimeout(() => finish("no answer in 10 s"), 10_000);
    let socket;
    let done = false;
    function finish(outcome) {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket?.destroy();
      resolve(outcome);
    }
    const plain = netConnect({ host: address, port });
    socket = plain;
    let info = "";
    plain.setEncoding("utf8");
    plain.on("error", (err) => finish(`connection failed: ${err.message}`));
    plain.on("data", function onInfo(chunk) {
      info += chunk;
      if (!info.includes("\r\n")) return;
      plain.removeListener("data", onInfo);
      if (!/^INFO .*"tls_required":true/.test(info)) {
        finish(`not a TLS-only NATS: ${info.slice(0, 200)}`);
        return;
      }
      const secure = tlsConnect({ socket: plain, ca, servername: host, ...credential });
      socket = secure;
      let text = "";
      secure.setEncoding("utf8");
      secure.on("error", (err) => finish(`refused: ${err.code ?? ""} ${err.message}`));
      secure.on("close", () => finish(`closed by the server: ${text.trim() || "(nothing said)"}`));
      secure.on("secureConnect", () => {
        secure.write('CONNECT {"verbose":false,"pedantic":false,"tls_required":true}\r\nPING\r\n');
      });
      secure.on("data", (data) => {
        text += data;
        if (text.includes("PONG")) finish("PONG");
        else if (text.includes("-ERR")) finish(`refused: ${text.trim()}`);
      });
    });
  });
}

// A new pod's address reaches NATS once the node's network policy has taken it in (kube-router: a few seconds); until
// the certified client gets an answer at all, the path is not there yet: wait for it (60 s) before judging.
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const deadline = Date.now() + 60_000;
let reachable = await exchange({
  cert: readFileSync(`${certDir}/tls.crt`),
  key: readFileSync(`${certDir}/tls.key`),
});
while (reachable.startsWith("connection failed") && Date.now() < deadline) {
  console.log(`waiting for a path to NATS: ${reachable}`);
  await sleep(2_000);
  reachable = await exchange({
    cert: readFileSync(`${certDir}/tls.crt`),
    key: readFileSync(`${certDir}/tls.key`),
  });
}
const anonymous = await exchange({});
console.log(`without a client certificate: ${anonymous}`);
const known = await exchange({
  cert: readFileSync(`${certDir}/tls.crt`),
  key: readFileSync(`${certDir}/tls.key`),
});
console.log(`with the provider's client certificate: ${known}`);
if (anonymous === "PONG") {
  console.error("FAIL: NATS answered a client without a certificate");
  process.exit(1);
}
if (known !== "PONG") {
  console.error(
    "FAIL: NATS did not answer a client with a certificate of its CA: the check proves nothing",
  );
  process.exit(1);
}
console.log("PASS: NATS answers certified clients only");
