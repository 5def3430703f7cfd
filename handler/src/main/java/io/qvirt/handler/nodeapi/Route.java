package io.qvirt.handler.nodeapi;

import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.util.regex.Pattern;

/**
 * The node API's routes, KubeVirt's virt-handler paths ({@code cmd/virt-handler} {@code runServer}):
 * {@code /v1/namespaces/{namespace}/virtualmachineinstances/{name}/{pause,unpause,reset}} (PUT),
 * {@code .../console} (GET, a WebSocket), and {@code /healthz} (GET).
 */
record Route(Action action, String namespace, String name) {

    enum Action { HEALTHZ, PAUSE, UNPAUSE, RESET, CONSOLE }

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
        // "", "v1", "namespaces", ns, "virtualmachineinstances", name, action
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
        String ns = s[3];
        String name = s[5];
        if (!LABEL.matcher(ns).matches()) {
            return new BadName("invalid namespace \"" + printable(ns) + "\": must be an RFC 1123 label");
        }
        if (name.length() > 253 || !SUBDOMAIN.matcher(name).matches()) {
            return new BadName("invalid VirtualMachineInstance name \"" + printable(name) + "\": must be an RFC 1123 subdomain");
        }
        return new Found(new Route(action, ns, name));
    }

    private static String printable(String s) {
        String cut = s.length() > 80 ? s.substring(0, 80) + "..." : s;
        return cut.replaceAll("[^\\x20-\\x7e]", "?");
    }
}
