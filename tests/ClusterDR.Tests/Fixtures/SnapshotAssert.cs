using System;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Xunit;

namespace ClusterDR.Tests.Fixtures
{
    /// <summary>
    /// "The same snapshot as etcdctl's". etcd 3.4 writes the same bytes for two snapshots of an unchanged
    /// store, so there the bytes must be equal. From 3.5 every snapshot first commits the backend, which
    /// rewrites bbolt's meta and freelist pages: two back-to-back snapshots differ in bytes while holding the
    /// same data. There the two must have the same size, a valid SHA-256 trailer each, and what etcd's own
    /// `etcdutl snapshot status` says of them (content hash, revision, key count, size) must be equal.
    /// </summary>
    internal static class SnapshotAssert
    {
        public static void Same(byte[] expected, byte[] actual)
        {
            if (expected.AsSpan().SequenceEqual(actual)) return;
            string version = EtcdVersion();
            if (version.StartsWith("3.4.", StringComparison.Ordinal)) Assert.Equal(expected, actual);
            Assert.Equal(expected.Length, actual.Length);
            Assert.True(TrailerIntact(actual), "our snapshot's SHA-256 trailer does not match its content");
            Assert.True(TrailerIntact(expected), "etcdctl's snapshot's SHA-256 trailer does not match its content");
            Assert.Equal(Status(expected), Status(actual));
        }

        private static string EtcdVersion()
        {
            var m = Regex.Match(Shell.Run("sh", "-c", "etcd --version"), @"etcd Version: (\S+)");
            Assert.True(m.Success, "etcd --version printed no version");
            return m.Groups[1].Value;
        }

        private static bool TrailerIntact(byte[] snap)
        {
            using var sha = SHA256.Create();
            var hash = sha.ComputeHash(snap, 0, snap.Length - 32);
            return hash.AsSpan().SequenceEqual(snap.AsSpan(snap.Length - 32));
        }

        private static string Status(byte[] snap)
        {
            var file = Path.Combine(Path.GetTempPath(), "clusterdr-snapshot-" + Guid.NewGuid().ToString("N") + ".db");
            File.WriteAllBytes(file, snap);
            try { return Shell.Run("sh", "-c", "etcdutl snapshot status -w json " + file).Trim(); }
            finally { File.Delete(file); }
        }
    }
}
