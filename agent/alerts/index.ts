/** Alerts with a lifecycle (fire, re-send, resolve; persisted) and their sinks: Alertmanager, webhooks, commands. */
export { ALERT_NAMES, ALERT_KINDS, type AlertName, type AlertKind, type AlertSeverity } from './alert-kinds.ts';
export {
  conditionsOfDrift,
  conditionsOfFindings,
  conditionsOfHealth,
  conditionsOfRemount,
  conditionsOfSink,
  DRIFT_SCOPE,
  type AlertCondition,
  type ConditionUpdate,
} from './alert-conditions.ts';
export {
  applyUpdate,
  resolveScope,
  expireScope,
  dueFor,
  markDelivered,
  prune,
  firingAlerts,
  fingerprintOf,
  labelsOf,
  isFiring,
  EMPTY_ALERT_STATE,
  type AlertRecord,
  type AlertState,
  type LifecycleContext,
  type LifecycleStep,
  type LifecycleChange,
} from './alert-lifecycle.ts';
export { alertmanagerBody, webhookBody, signatureOf, SIGNATURE_HEADER, type AlertmanagerAlert, type WebhookAlert, type WebhookBody } from './alert-payloads.ts';
export { alertStateFileOf, loadAlertState, saveAlertState } from './alert-state-file.ts';
export { AlertSinkError, redactUrl, type AlertSinkErrorCode } from './alert-errors.ts';
export { alertmanagerSink, webhookSink, commandSink, type AlertSink, type SendContext } from './alert-sinks.ts';
export { SinkDelivery, type SinkStatus } from './sink-delivery.ts';
export { alertsService, sinksOf, generatorUrlOf, type AlertsServiceOptions, type AlertsStatus } from './alerts-service.ts';
