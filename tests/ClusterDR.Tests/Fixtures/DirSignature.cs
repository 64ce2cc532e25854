using System;
using System.IO;
using System.Linq;
using System.Security.Cryptography;

namespace ClusterDR.Tests.Fixtures
{
    /// <summary>A directory tree reduced to "path size sha256" lines, to prove nothing changed.</summary>
    internal static class DirSignature
    {
        public static string Of(string dir)
        {
            if (!Directory.Exists(dir)) return "(absent)";
            return string.Join("\n", Directory.EnumerateFileSystemEntries(dir, "*", SearchOption.AllDirectories)
                .OrderBy(p => p, StringComparer.Ordinal)
                .Select(p =>
                {
                    string rel = Path.GetRelativePath(dir, p);
                    if (Directory.Exists(p)) return rel + "/";
                    using var f = new FileStream(p, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                    return $"{rel} {f.Length} {Convert.ToHexString(SHA256.HashData(f))}";
                }));
        }

        /// <summary>Just the relative paths in a tree (for a live member whose files keep changing).</summary>
        public static string Names(string dir) =>
            string.Join("\n", Directory.EnumerateFileSystemEntries(dir, "*", SearchOption.AllDirectories).Select(p => Path.GetRelativePath(dir, p)).OrderBy(p => p, StringComparer.Ordinal));

        /// <summary>Names of the entries beside a data dir (where moved-aside copies go).</summary>
        public static string[] Siblings(string dataDir) =>
            Directory.GetFileSystemEntries(Path.GetDirectoryName(dataDir)!).Select(Path.GetFileName).OrderBy(x => x, StringComparer.Ordinal).ToArray()!;
    }
}
