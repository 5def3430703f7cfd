package io.qvirt.testdata;

import java.util.regex.Pattern;

/**
 * The stable lines the test guest prints on ttyS0 (see testdata/guest/init). Each pattern with a value
 * ends at the line's end: the console arrives in arbitrary chunks, and {@code gw=(\\S+)} would otherwise
 * match half an address that is still on its way.
 */
public final class GuestMarkers {
    private GuestMarkers() {
    }

    /** {@code QVIRT-GUEST-BOOTED uptime=<seconds>}: /init started. Group 1: the guest's uptime. */
    public static final Pattern BOOTED = Pattern.compile("QVIRT-GUEST-BOOTED uptime=([0-9.]+)\\r?\\n");

    /** A cidata volume was found. Group 1: instance-id; group 2: sha256 of user-data (or none). */
    public static final Pattern CLOUDINIT =
            Pattern.compile("QVIRT-CLOUDINIT instance-id=(\\S+) userdata-sha256=([0-9a-f]{64}|none)\\r?\\n");

    /** DHCP result on the first NIC. Group 1: address; group 2: gateway ({@code none} if DHCP failed). */
    public static final Pattern NET = Pattern.compile("QVIRT-NET ip=(\\S+) gw=(\\S+)\\r?\\n");

    /** Printed when the ACPI power button is pressed, just before the guest powers off. */
    public static final Pattern POWEROFF = Pattern.compile("QVIRT-GUEST-POWEROFF");

    /** The root shell's prompt on ttyS0. */
    public static final String PROMPT = "qvirt-guest# ";

    public static final Pattern PROMPT_PATTERN = Pattern.compile(Pattern.quote(PROMPT));
}
