package io.qvirt.launcher.image;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One challenge of a {@code WWW-Authenticate} header (RFC 7235): a scheme ({@code basic} or {@code bearer},
 * lower-cased) and its parameters, e.g. {@code Bearer realm="https://auth.docker.io/token",
 * service="registry.docker.io",scope="repository:library/busybox:pull"}.
 */
public record AuthChallenge(String scheme, Map<String, String> params) {
    public AuthChallenge {
        params = Map.copyOf(params);
    }

    public String param(String name) {
        return params.get(name);
    }

    /**
     * Parses every challenge in a header value. Parameters are {@code name=token} or {@code name="quoted"}
     * (with backslash escapes), separated by commas; a new scheme starts where a token is not followed by '='.
     *
     * @throws IllegalArgumentException if the header is malformed (unterminated quote, missing scheme)
     */
    public static List<AuthChallenge> parse(String header) {
        List<AuthChallenge> out = new ArrayList<>();
        if (header == null) {
            return out;
        }
        int i = 0;
        int n = header.length();
        String scheme = null;
        Map<String, String> params = new LinkedHashMap<>();
        while (i < n) {
            while (i < n && (header.charAt(i) == ' ' || header.charAt(i) == ',' || header.charAt(i) == '\t')) {
                i++;
            }
            if (i >= n) {
                break;
            }
            int start = i;
            while (i < n && !isDelimiter(header.charAt(i))) {
                i++;
            }
            String token = header.substring(start, i);
            int j = i;
            while (j < n && header.charAt(j) == ' ') {
                j++;
            }
            if (j < n && header.charAt(j) == '=' && scheme != null && !token.isEmpty()) {
                j++;
                while (j < n && header.charAt(j) == ' ') {
                    j++;
                }
                StringBuilder v = new StringBuilder();
                if (j < n && header.charAt(j) == '"') {
                    j++;
                    boolean closed = false;
                    while (j < n) {
                        char c = header.charAt(j++);
                        if (c == '\\' && j < n) {
                            v.append(header.charAt(j++));
                        } else if (c == '"') {
                            closed = true;
                            break;
                        } else {
                            v.append(c);
                        }
                    }
                    if (!closed) {
                        throw new IllegalArgumentException("WWW-Authenticate: unterminated quoted value of '" + token + "'");
                    }
                } else {
                    while (j < n && header.charAt(j) != ',' && header.charAt(j) != ' ') {
                        v.append(header.charAt(j++));
                    }
                }
                params.put(token.toLowerCase(Locale.ROOT), v.toString());
                i = j;
            } else {
                if (token.isEmpty()) {
                    throw new IllegalArgumentException("WWW-Authenticate: unexpected '" + header.charAt(i) + "' in: " + header);
                }
                if (scheme != null) {
                    out.add(new AuthChallenge(scheme, params));
                    params = new LinkedHashMap<>();
                }
                scheme = token.toLowerCase(Locale.ROOT);
            }
        }
        if (scheme != null) {
            out.add(new AuthChallenge(scheme, params));
        } else if (!params.isEmpty()) {
            throw new IllegalArgumentException("WWW-Authenticate: parameters without a scheme: " + header);
        }
        return out;
    }

    private static boolean isDelimiter(char c) {
        return c == ' ' || c == ',' || c == '=' || c == '\t' || c == '"';
    }
}
