package io.qvirt.launcher.runtime;

/** What the user asked for: {@code auto} (KVM if it really works, else TCG with a warning), {@code kvm}, {@code tcg}. */
public enum AccelMode { AUTO, KVM, TCG }
