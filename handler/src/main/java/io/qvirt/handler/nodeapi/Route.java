package io.qvirt.handler.nodeapi;

import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.util.regex.Pattern;

/**
 * The node API's routes, KubeVirt's virt-handler paths ({@code cmd/virt-handler} {@code runServer}):
 * {@code /v1/namespaces/{namespace}/virtualmachineinstances/{name}/{pause,unpause,reset}} (PUT),
 * {@code .../console} (GET, a WebSocket), and {@code /healthz} (GET); and qvirt's own
 * {@code .../portforward/{port}[/{protocol}]} (GET, a WebSocket: KubeVirt's virt-api dials the VMI's address
 * itself, qvirt's goes through the handler, which reaches the pod address), virt-api's subresource path shape.
 *
 * @param port     for {@link Action#PORTFORWARD}: 1-65535; else 0
 * @param protocol for {@link Action#PORTFORWARD}: {@code tcp} or {@code udp} (lower case); else null
 */
record Route(Action action, String namespace, String name, int port, String protocol) {

    enum Action { HEALTHZ, PAUSE, UNPAUSE, RESET, CONSOLE, PORTFORWARD }

    Route(Action action, String namespace, String name) {
        this(action, namespace, name, 0, null);
    }

    /** What a request line resolves to. */
    sealed interface Match permits Found, NotFound, MethodNotAllowed, BadName {
    }

    record Found(Route route) implements Match {
    }

    record NotFound() implements Match {
    }

    /** The path exists, for {@code allow} only. */
    record MethodNotAllowed(String allow) implements Match {
    }

    /** The path's namespace or name cannot be a Kubernetes one. */
    record BadName(String message) implements Match {
    }

    /** RFC 1123 label: what a namespace must be. */
    private static final Pattern LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");
    /** RFC 1123 subdomain: what a VMI's name must be (no "..", no "/", nothing to escape a directory with). */
    private static final Pattern SUBDOMAIN = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");

    /**
     * Resolves a request. The query string is ignored (KubeVirt's handler takes none on these routes); the
     * path is matched raw, not percent-decoded, so an encoded character never passes as a name.
     */
    static Match match(HttpMethod method, String uri) {
        String path = new QueryStringDecoder(uri).rawPath();
        if (path.equals("/healthz")) {
            return method.equals(HttpMethod.GET) ? new Found(new Route(Action.HEALTHZ, null, null)) : new MethodNotAllowed("GET");
        }
        String[] s = path.split("/", -1);
        // "", "v1", "namespaces", ns, "virtualmachineinstances", name, action[, port[, protocol]]
        if (s.length >= 8 && s.length <= 9 && s[6].equals("portforward")) {
            return portForward(method, s);
        }
        if (s.length != 7 || !s[0].isEmpty() || !s[1].equals("v1") || !s[2].equals("namespaces")
                || !s[4].equals("virtualmachineinstances") || s[3].isEmpty() || s[5].isEmpty()) {
            return new NotFound();
        }
        Action action;
        HttpMethod wanted;
        switch (s[6]) {
            case "pause" -> { action = Action.PAUSE; wanted = HttpMethod.PUT; }
            case "unpause" -> { action = Action.UNPAUSE; wanted = HttpMethod.PUT; }
            case "reset" -> { action = Action.RESET; wanted = HttpMethod.PUT; }
            case "console" -> { action = Action.CONSOLE; wanted = HttpMethod.GET; }
            default -> { return new NotFound(); }
        }
        if (!method.equals(wanted)) {
            return new MethodNotAllowed(wanted.name());
        }
        BadName bad = badName(s[3], s[5]);
        return bad != null ? bad : new Found(new Route(action, s[3], s[5]));
    }

    /** {@code .../portforward/{port}[/{protocol}]}: the port and protocol checked here, with what is allowed. */
    private static Match portForward(HttpMethod method, String[] s) {
        if (!s[0].isEmpty() || !s[1].equals("v1") || !s[2].equals("namespaces") || !s[4].equals("virtualmachineinstances")
                || s[3].isEmpty() || s[5].isEmpty()) {
            return new NotFound();
        }
        if (!method.equals(HttpMethod.GET)) {
            return new MethodNotAllowed("GET");
        }
        BadName bad = badName(s[3], s[5]);
        if (bad != null) {
            return bad;
        }
        int port = s[7].matches("[0-9]{1,5}") ? Integer.parseInt(s[7]) : -1;
        if (port < 1 || port > 65535) {
            return new BadName("invalid port \"" + printable(s[7]) + "\": must be a number from 1 to 65535");
        }
        String protocol = s.length == 9 ? s[8].toLowerCase(java.util.Locale.ROOT) : "tcp";
        if (!protocol.equals("tcp") && !protocol.equals("udp")) {
            return new BadName("invalid protocol \"" + printable(s[8]) + "\": tcp or udp");
        }
        return new Found(new Route(Action.PORTFORWARD, s[3], s[5], port, protocol));
    }

    private static BadName badName(String ns, String name) {
        if (!LABEL.matcher(ns).matches()) {
            return new BadName("invalid namespace \"" + printable(ns) + "\": must be an RFC 1123 label");
        }
        if (name.length() > 253 || !SUBDOMAIN.matcher(name).matches()) {
            return new BadName("invalid VirtualMachineInstance name \"" + printable(name) + "\": must be an RFC 1123 subdomain");
        }
        return null;
    }

    private static String printable(String s) {
        String cut = s.length() > 80 ? s.substring(0, 80) + "..." : s;
        return cut.replaceAll("[^\\x20-\\x7e]", "?");
    }
}
