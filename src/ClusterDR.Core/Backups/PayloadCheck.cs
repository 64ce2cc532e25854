using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace ClusterDR.Backups
{
    /// <summary>
    /// A platform's own integrity check of one payload file (etcd: the snapshot's trailing SHA-256),
    /// run while the bytes stream past. Platform folders provide them; the verifier finds them.
    /// </summary>
    public interface IPayloadCheck
    {
        /// <summary>What the check proves, for the verification summary.</summary>
        string Description { get; }
        /// <summary>Receives the file's bytes in order.</summary>
        Stream Sink { get; }
        /// <summary>Throws a ClusterDrException when the content fails the check.</summary>
        void Complete();
    }

    /// <summary>Implemented once per platform folder; found by reflection so Backups never depends on a platform.</summary>
    public interface IPayloadCheckProvider
    {
        /// <summary>A check for this file of this backup, or null when the platform has none for it.</summary>
        IPayloadCheck For(BackupManifest manifest, ManifestFile file);
    }

    public static class PayloadChecks
    {
        private static readonly Lazy<IPayloadCheckProvider[]> Providers = new Lazy<IPayloadCheckProvider[]>(() =>
            typeof(PayloadChecks).Assembly.GetTypes()
                .Where(t => typeof(IPayloadCheckProvider).IsAssignableFrom(t) && !t.IsAbstract && !t.IsInterface)
                .Select(t => (IPayloadCheckProvider)Activator.CreateInstance(t))
                .ToArray());

        public static IList<IPayloadCheck> For(BackupManifest manifest, ManifestFile file) =>
            Providers.Value.Select(p => p.For(manifest, file)).Where(c => c != null).ToList();
    }
}
