// A Node.js service asking authzd for decisions over gRPC, with the client built at run time
// from proto/authzd/v1/authzd.proto (no code generation step).
//
//   npm install
//   node client.js [127.0.0.1:9191 | unix:///run/authzd/grpc.sock]
'use strict';

const path = require('node:path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const PROTO_DIR = path.join(__dirname, '..', '..', '..', 'proto');
const target = process.argv[2] || '127.0.0.1:9191';

const definition = protoLoader.loadSync(path.join(PROTO_DIR, 'authzd', 'v1', 'authzd.proto'), {
  includeDirs: [PROTO_DIR],
  keepCase: true,
  longs: String,
  defaults: true,
  oneofs: true,
});
const { authzd } = grpc.loadPackageDefinition(definition);
const client = new authzd.v1.Authorizer(target, grpc.credentials.createInsecure());

function decide(request) {
  return new Promise((resolve, reject) => {
    client.Decide(request, (err, response) => (err ? reject(err) : resolve(response)));
  });
}

async function main() {
  // Only the order service may initiate a payment.
  const initiate = { caller: { service: 'order-service' }, action: 'initiate' };
  const response = await decide({
    path: 'payment/allow',
    input_json: Buffer.from(JSON.stringify(initiate)),
  });
  const allowed = response.defined ? JSON.parse(response.result_json.toString()) : undefined;
  console.log(`payment/allow order-service initiate: ${JSON.stringify(allowed)} ` +
    `(decision ${response.decision_id})`);

  // Anyone else is denied, with a reason.
  const denied = await decide({
    path: 'payment/decision',
    input_json: Buffer.from(JSON.stringify({ caller: { service: 'inventory-service' }, action: 'initiate' })),
  });
  console.log(`payment/decision inventory-service initiate: ${denied.result_json.toString()}`);

  client.close();
  if (allowed !== true) {
    console.error('unexpected decision');
    process.exit(1);
  }
}

main().catch((err) => {
  console.error(`authzd: ${err.message}`);
  process.exit(1);
});
