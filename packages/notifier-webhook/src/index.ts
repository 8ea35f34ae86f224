export { type WebhookNotifier, webhookNotifier } from './notifier.js';
export {
  type ResolvedWebhookNotifierOptions,
  WEBHOOK_PRESETS,
  type WebhookNotifierOptions,
  type WebhookPreset,
  webhookNotifierOptionsSchema,
} from './options.js';
export { describeEvent, type Message, type RenderedRequest, renderRequest } from './render.js';
export { HEADERS, signWebhook, type VerifyWebhookInput, verifyWebhook } from './signature.js';
