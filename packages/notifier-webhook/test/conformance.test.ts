import { testNotifier } from '@lifeboat/core/testing';
import { webhookNotifier } from '@lifeboat/notifier-webhook';
import { startReceiver } from '@lifeboat/test-support/http';

const SECRET = 'whsec-Conformance-Secret-77';
const TOKEN = 'T0Ken-conformance-1a2b3c';

testNotifier(
  'webhook (HTTP receiver)',
  async () => {
    const receiver = await startReceiver();
    const refusing = await startReceiver(() => 401);
    const options = (url: string) => ({
      url: `${url}/hooks/${TOKEN}`,
      secret: SECRET,
      retries: 1,
      retryDelayMs: 10,
    });
    return {
      notifier: webhookNotifier(options(receiver.url)),
      delivered: () => receiver.requests.length,
      failing: () => webhookNotifier(options(refusing.url)),
      cleanup: async () => {
        await receiver.close();
        await refusing.close();
      },
    };
  },
  { secrets: [SECRET, TOKEN] },
);
