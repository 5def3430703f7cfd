package io.qvirt.handler.migration;

import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The first line of every proxy connection: {@code QVIRT-MIGRATION/1 <migrationUid> stream|nbd|control\n},
 * answered {@code OK\n} or {@code ERR <why>\n}.
 */
record ProxyHeader(String migrationUid, Kind kind) {
    static final String PROTOCOL = "QVIRT-MIGRATION/1";
    /** A header line (and an answer line) with its newline is at most this long. */
    static final int MAX_LINE = 256;
    static final String OK = "OK";
    private static final Pattern UID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9-]{0,63}");

    /** What a connection carries. */
    enum Kind {
        /** The migration stream (QEMU's migrate URI): raw bytes to the target's stream socket. */
        STREAM,
        /** Disk copies: raw bytes to the target's NBD socket. */
        NBD,
        /** JSON lines: the source's calls of the target's {@link io.qvirt.launcher.migrate.MigrationTarget}. */
        CONTROL;

        String wire() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    ProxyHeader {
        requireUid(migrationUid, "migrationUid");
    }

    /** @throws IllegalArgumentException naming {@code field} unless {@code uid} is 1 to 64 of [A-Za-z0-9-] */
    static String requireUid(String uid, String field) {
        if (uid == null || !UID.matcher(uid).matches()) {
            throw new IllegalArgumentException(field + ": \"" + uid + "\" is not a migration uid (1 to 64 characters "
                    + "of A-Z, a-z, 0-9 and '-', the first a letter or digit)");
        }
        return uid;
    }

    /** The line as sent, newline included. */
    byte[] encode() {
        return (PROTOCOL + " " + migrationUid + " " + kind.wire() + "\n").getBytes(StandardCharsets.US_ASCII);
    }

    /**
     * @param line a header line without its newline
     * @throws ProxyProtocolException saying what is wrong with it
     */
    static ProxyHeader parse(String line) {
        String[] parts = line.split(" ", -1);
        if (parts.length != 3 || !parts[0].equals(PROTOCOL)) {
            throw new ProxyProtocolException("bad header: expected \"" + PROTOCOL + " <migrationUid> "
                    + "stream|nbd|control\"");
        }
        if (!UID.matcher(parts[1]).matches()) {
            throw new ProxyProtocolException("bad header: the migration uid is not 1 to 64 characters of A-Z, a-z, "
                    + "0-9 and '-', the first a letter or digit");
        }
        for (Kind k : Kind.values()) {
            if (k.wire().equals(parts[2])) {
                return new ProxyHeader(parts[1], k);
            }
        }
        throw new ProxyProtocolException("bad header: the connection kind is not stream, nbd or control");
    }
}
