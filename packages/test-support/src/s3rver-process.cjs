// Runs s3rver in its own process (for measurements that must not count the server's memory).
// Usage: node s3rver-process.cjs <directory> <bucket>; prints the port, stops on SIGTERM.
const S3rver = require('s3rver');

const [directory, bucket] = process.argv.slice(2);
const server = new S3rver({
  address: '127.0.0.1',
  port: 0,
  silent: true,
  directory,
  vhostBuckets: false,
  configureBuckets: [{ name: bucket, configs: [] }],
});
server.run().then((address) => {
  process.stdout.write(`${address.port}\n`);
});
process.on('SIGTERM', () => {
  server.close().finally(() => process.exit(0));
});
