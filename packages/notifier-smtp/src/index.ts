export { type SmtpNotifier, smtpNotifier } from './notifier.js';
export {
  DEFAULT_ATTACH_MAX_BYTES,
  type ResolvedSmtpNotifierOptions,
  type SmtpNotifierOptions,
  smtpNotifierOptionsSchema,
} from './options.js';
export {
  type AttachmentPlan,
  escapeHtml,
  formatBytes,
  formatDuration,
  type RenderContext,
  type RenderedMessage,
  renderMessage,
  type VerificationSummary,
} from './render.js';
export { backoffDelay, classifySmtpError, type Failure, type FailureKind } from './smtp-errors.js';
