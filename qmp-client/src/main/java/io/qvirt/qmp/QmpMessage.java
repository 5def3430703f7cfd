package io.qvirt.qmp;

/** One decoded message from a QMP server: the greeting, a command's return or error, or an event. */
public sealed interface QmpMessage permits QmpGreeting, QmpReturn, QmpError, QmpEvent {
}
