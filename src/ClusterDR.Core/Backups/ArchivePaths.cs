using System;
using System.IO;
using System.Linq;

namespace ClusterDR.Backups
{
    /// <summary>
    /// The one place that decides whether a name inside an archive is safe: relative, no "..", no
    /// drive letters or backslash tricks, and, once joined to a target directory, still inside it.
    /// </summary>
    public static class ArchivePaths
    {
        public static string Normalize(string name)
        {
            if (string.IsNullOrEmpty(name)) throw Unsafe(name, "the name is empty");
            if (name.IndexOf('\0') >= 0) throw Unsafe(name, "the name contains a NUL character");
            string n = name.Replace('\\', '/');
            if (n.StartsWith("/", StringComparison.Ordinal) || (n.Length >= 2 && n[1] == ':')) throw Unsafe(name, "absolute paths are not allowed");
            while (n.StartsWith("./", StringComparison.Ordinal)) n = n.Substring(2);
            n = n.TrimEnd('/');
            var segments = n.Split('/');
            if (segments.Any(s => s == "..")) throw Unsafe(name, "'..' would escape the target directory");
            if (segments.Any(s => s.Length == 0 || s == ".")) throw Unsafe(name, "empty or '.' path segments are not allowed");
            return n;
        }

        /// <summary>Joins a checked archive name to <paramref name="root"/> and proves the result stays inside it.</summary>
        public static string Resolve(string root, string name)
        {
            string full = Path.GetFullPath(root);
            string rel = Normalize(name);
            string target = Path.GetFullPath(Path.Combine(full, rel.Replace('/', Path.DirectorySeparatorChar)));
            string prefix = full.EndsWith(Path.DirectorySeparatorChar.ToString(), StringComparison.Ordinal) ? full : full + Path.DirectorySeparatorChar;
            if (!target.StartsWith(prefix, StringComparison.Ordinal)) throw Unsafe(name, "it resolves outside the target directory");
            return target;
        }

        /// <summary>A link may only point inside the tree it is extracted into.</summary>
        public static void CheckLinkTarget(string root, string linkName, string linkTarget)
        {
            if (string.IsNullOrEmpty(linkTarget)) throw Unsafe(linkName, "the link has no target");
            string t = linkTarget.Replace('\\', '/');
            if (t.StartsWith("/", StringComparison.Ordinal) || (t.Length >= 2 && t[1] == ':'))
                throw Unsafe(linkName, $"its link target '{linkTarget}' is absolute");
            string linkDir = Path.GetDirectoryName(Resolve(root, linkName));
            string full = Path.GetFullPath(Path.Combine(linkDir, t.Replace('/', Path.DirectorySeparatorChar)));
            string rootFull = Path.GetFullPath(root).TrimEnd(Path.DirectorySeparatorChar);
            if (full != rootFull && !full.StartsWith(rootFull + Path.DirectorySeparatorChar, StringComparison.Ordinal))
                throw Unsafe(linkName, $"its link target '{linkTarget}' points outside the target directory");
        }

        internal static ClusterDrException Unsafe(string name, string why) =>
            new ClusterDrException(ErrorIds.UnsafeArchiveEntry, ErrorKind.SecurityError,
                $"Refusing archive entry '{name}': {why}.", name);
    }
}
