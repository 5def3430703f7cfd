package io.qvirt.qmp;

/** {@code query-kvm}: whether KVM is available ({@code present}) and in use ({@code enabled}). */
public record KvmInfo(boolean enabled, boolean present) {
}
