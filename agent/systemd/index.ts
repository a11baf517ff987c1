/** systemd integration: Type=notify readiness, STATUS= lines and watchdog pings through `systemd-notify`. */
export { parseNotifyEnv, NOTIFY_ENV_VARS, type NotifyEnv } from './notify-env.ts';
export { planNotification, statusTextOf, earnsWatchdogPing, NO_NOTIFY_PROGRESS, type NotifyProgress, type NotifyStep, type QueueProbe } from './notify-plan.ts';
export { systemdNotify, type NotifySender } from './systemd-notify.ts';
export { SystemdNotifier, WATCHDOG_STALL_LIMIT_MS, type SystemdNotifierOptions, type QueueSettled } from './systemd-notifier.ts';
export { systemdService } from './systemd-service.ts';
export { SystemdError, type SystemdErrorCode } from './systemd-errors.ts';
