import { testNotifier } from '@lifeboat/core/testing';
import { smtpNotifier } from '@lifeboat/notifier-smtp';
import { smtpError, startSmtpServer } from '@lifeboat/test-support/smtp';
import type { SMTPServerAuthentication } from 'smtp-server';

const PASSWORD = 'smtp-Conformance-Pass-0815';

testNotifier(
  'smtp (smtp-server)',
  async () => {
    const server = await startSmtpServer({
      authOptional: false,
      allowInsecureAuth: true,
      onAuth(auth: SMTPServerAuthentication, _session, callback) {
        if (auth.username === 'alice' && auth.password === PASSWORD)
          return callback(null, { user: 'alice' });
        callback(smtpError(535, 'Authentication credentials invalid'));
      },
    });
    const options = (pass: string) => ({
      host: '127.0.0.1',
      port: server.port,
      from: 'Lifeboat <lifeboat@example.com>',
      to: 'ops@example.com',
      requireTLS: false,
      user: 'alice',
      pass,
      retries: 1,
      retryDelayMs: 10,
    });
    return {
      notifier: smtpNotifier(options(PASSWORD)),
      delivered: () => server.received.length,
      received: () => server.received.map((r) => `${r.mail.subject}\n${r.mail.text}`).join('\n'),
      failing: () => smtpNotifier(options(`wrong-${PASSWORD}`)),
      cleanup: () => server.close(),
    };
  },
  { secrets: [PASSWORD] },
);
