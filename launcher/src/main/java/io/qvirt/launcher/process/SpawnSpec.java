package io.qvirt.launcher.process;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * What to start.
 *
 * @param executable   absolute path of the program
 * @param argv         argv, argv[0] included
 * @param env          the environment, exactly (nothing is inherited implicitly)
 * @param inherit      fds the child gets, as fd 3, 4, ... in this order; it gets no other fd above 2
 * @param stdin        file for fd 0 (null: /dev/null)
 * @param stdout       file for fd 1, appended (null: /dev/null)
 * @param stderr       file for fd 2, appended (null: /dev/null)
 * @param killWithOwner the child gets SIGKILL when the thread that spawned it ends (the owner thread
 *                      lives until the child exits, so in effect: when this process dies)
 * @param threadName   the owner thread's name
 */
public record SpawnSpec(Path executable, List<String> argv, Map<String, String> env, List<Fd> inherit,
                        Path stdin, Path stdout, Path stderr, boolean killWithOwner, String threadName) {
    public SpawnSpec {
        argv = List.copyOf(argv);
        env = Map.copyOf(env);
        inherit = List.copyOf(inherit);
        if (!executable.isAbsolute()) {
            throw new IllegalArgumentException("executable must be an absolute path: " + executable);
        }
    }
}
