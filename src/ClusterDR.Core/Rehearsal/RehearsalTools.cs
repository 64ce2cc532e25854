using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;

namespace ClusterDR.Rehearsal
{
    /// <summary>
    /// Finds the programs a rehearsal runs: first in the directories given (-ToolPath), then on PATH, then where the usual
    /// packages put them. A missing one is RehearsalToolMissing, naming what to install.
    /// </summary>
    public sealed class RehearsalTools
    {
        private readonly IList<string> _dirs;

        public RehearsalTools(IEnumerable<string> toolPath)
        {
            _dirs = (toolPath ?? Enumerable.Empty<string>()).Where(d => !string.IsNullOrWhiteSpace(d)).Select(Path.GetFullPath).ToList();
        }

        public IList<string> Dirs => _dirs;

        /// <summary>The first of <paramref name="names"/> found, or null.</summary>
        public string Find(IEnumerable<string> extraDirs, params string[] names)
        {
            var path = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator).Where(p => p.Length > 0);
            foreach (string dir in _dirs.Concat(path).Concat(extraDirs ?? Enumerable.Empty<string>()))
                foreach (string name in names)
                {
                    string candidate = Path.Combine(dir, name);
                    if (File.Exists(candidate)) return candidate;
                }
            return null;
        }

        public string Require(string name, string install, IEnumerable<string> extraDirs = null) =>
            Find(extraDirs, name) ?? throw Missing(name, install);

        public ClusterDrException Missing(string what, string install) =>
            new ClusterDrException(ErrorIds.RehearsalToolMissing, ErrorKind.ObjectNotFound,
                $"A rehearsal needs {what}, which is not in {Where()}. {install}", what, surfaceAsIs: true,
                recommendedAction: $"{install} Or give the directory that holds it with -ToolPath.");

        private string Where() => (_dirs.Count > 0 ? "-ToolPath (" + string.Join(", ", _dirs) + ") or " : "") + "PATH";

        /// <summary>PostgreSQL's server programs are not on PATH in Debian's packages: /usr/lib/postgresql/&lt;version&gt;/bin, newest first.</summary>
        public static IEnumerable<string> PostgresDirs()
        {
            try
            {
                return Directory.GetDirectories("/usr/lib/postgresql")
                    .OrderByDescending(d => int.TryParse(Path.GetFileName(d), out int v) ? v : 0)
                    .Select(d => Path.Combine(d, "bin"));
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException) { return new string[0]; }
        }

        /// <summary>
        /// ZooKeeper's class path: every jar of the first directory (of -ToolPath, its lib/, $ZOOKEEPER_HOME/lib) that holds
        /// a zookeeper jar, else Debian's /usr/share/java/zookeeper.jar with its logging jars.
        /// </summary>
        public string ZooKeeperClassPath()
        {
            var candidates = new List<string>();
            foreach (var d in _dirs) { candidates.Add(d); candidates.Add(Path.Combine(d, "lib")); }
            string home = Environment.GetEnvironmentVariable("ZOOKEEPER_HOME");
            if (!string.IsNullOrEmpty(home)) { candidates.Add(Path.Combine(home, "lib")); candidates.Add(home); }
            foreach (var d in candidates.Where(Directory.Exists))
            {
                var jars = Directory.GetFiles(d, "*.jar").OrderBy(f => f, StringComparer.Ordinal).ToList();
                // Debian's jar goes last: its manifest's Class-Path brings the libraries a bare jar directory may lack.
                if (jars.Any(j => Path.GetFileName(j).StartsWith("zookeeper", StringComparison.Ordinal)))
                    return string.Join(":", jars.Concat(DebianLogging()).Concat(new[] { DebianJar }.Where(File.Exists)));
            }
            if (File.Exists(DebianJar)) return string.Join(":", new[] { DebianJar }.Concat(DebianLogging()));
            throw Missing("ZooKeeper's jars", "Install ZooKeeper (Debian: apt-get install --no-install-recommends zookeeper), or set ZOOKEEPER_HOME.");
        }

        private const string DebianJar = "/usr/share/java/zookeeper.jar";

        private static IEnumerable<string> DebianLogging() =>
            new[] { "/usr/share/java/slf4j-log4j12.jar", "/usr/share/java/log4j-1.2.jar", "/usr/share/java/slf4j-api.jar" }.Where(File.Exists);

        public string Java()
        {
            string home = Environment.GetEnvironmentVariable("JAVA_HOME");
            return Find(string.IsNullOrEmpty(home) ? null : new[] { Path.Combine(home, "bin") }, "java")
                ?? throw Missing("java", "Install a Java runtime (Debian: apt-get install --no-install-recommends default-jre-headless).");
        }

        /// <summary>Rehearsals start Unix servers under /bin/sh and read /proc: Linux only.</summary>
        public static void EnsureLinux(string kind)
        {
            if (!RuntimeInformation.IsOSPlatform(OSPlatform.Linux))
                throw new ClusterDrException(ErrorIds.RehearsalUnsupported, ErrorKind.NotImplemented,
                    $"A rehearsal of a {kind} backup runs throwaway servers on Linux; this is {RuntimeInformation.OSDescription}.", kind, surfaceAsIs: true,
                    recommendedAction: "Rehearse on a Linux machine or runbook worker (a Hybrid Runbook Worker on Linux).");
        }
    }
}
