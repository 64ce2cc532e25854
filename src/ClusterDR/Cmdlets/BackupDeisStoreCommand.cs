using System.Management.Automation;
using ClusterDR.Deis;

namespace ClusterDR.Commands
{
    /// <summary>Backs up the Deis v1 platform store: every object of its buckets, the store volume and optionally the database.</summary>
    [Cmdlet(VerbsData.Backup, "DeisStore", HelpUri = DocsUri.Base + "Backup-DeisStore.md", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low, DefaultParameterSetName = NodeSet)]
    [OutputType(typeof(ClusterBackup))]
    public sealed class BackupDeisStoreCommand : DeisStoreCmdletBase
    {
        /// <summary>Directory that receives the archive (created when missing); with -Store, a folder of the store ("." for its root).</summary>
        [Parameter(Mandatory = true, Position = 1)]
        [Alias("Destination")]
        public string Path { get; set; }

        /// <summary>The store that receives the archive (New-ClusterBackupStore); -Path is then a folder in it ("." for its root).</summary>
        [Parameter]
        public Stores.BackupStore Store { get; set; }

        [Parameter]
        [ValidateBackupName]
        public string Label { get; set; }

        /// <summary>The ceph CLI on -Node (e.g. "docker exec deis-store-monitor ceph").</summary>
        [Parameter]
        public string CephCommand { get; set; } = "ceph";

        /// <summary>A sh command on the database node that writes pg_dumpall's SQL on stdout.</summary>
        [Parameter]
        public string DatabaseDumpCommand { get; set; }

        /// <summary>
        /// Zstd (default; a .tar.zst that tar --zstd and zstd -d open) or Gzip (a .tar.gz, for tools without zstd).
        /// </summary>
        [Parameter]
        [ValidateSet(ArchiveParameters.Zstd, ArchiveParameters.Gzip)]
        public string ArchiveFormat { get; set; } = ArchiveParameters.Zstd;

        /// <summary>Fastest (default: zstd level 1), Optimal, SmallestSize or NoCompression (stored as it is).</summary>
        [Parameter]
        public System.IO.Compression.CompressionLevel CompressionLevel { get; set; } = System.IO.Compression.CompressionLevel.Fastest;

        /// <summary>
        /// Encrypts the backup (age) to these recipients: age1… public keys (New-ClusterBackupKey or age-keygen makes
        /// them). Blank values and '#' comments are skipped, so -Recipient (Get-Content recipients.txt) works. Without
        /// an identity only the kind, cluster, label, creation time and size can be read.
        /// </summary>
        [Parameter]
        public string[] Recipient { get; set; }

        /// <summary>Encrypts the backup (age, scrypt) with this passphrase instead of recipients; age -d opens it. Such a backup lists by its file name.</summary>
        [Parameter]
        public System.Security.SecureString Passphrase { get; set; }

        /// <summary>Back up although the Ceph monitors have no quorum or the cluster is in HEALTH_ERR.</summary>
        [Parameter]
        public SwitchParameter Force { get; set; }

        protected override DeisNodeOptions Nodes()
        {
            var n = base.Nodes();
            n.CephCommand = CephCommand;
            if (DatabaseDumpCommand != null) n.DatabaseDumpCommand = DatabaseDumpCommand;
            return n;
        }

        protected override void ProcessRecord() => Run(() =>
        {
            using (var store = StoreShell())
            using (var db = NodeShell(DatabaseNode))
            {
                var b = DeisStoreBackup.Run(new DeisStoreBackupRequest
                {
                    S3 = S3(), Nodes = Nodes(), StoreShell = store, DatabaseShell = db, IncludeVolume = !SkipVolume,
                    IncludeDatabase = IncludeDatabase, Directory = ArchiveParameters.Destination(this, Path, Store), Label = Label, Force = Force, Archive = ArchiveParameters.Options(ArchiveFormat, CompressionLevel, Store, EncryptionParameters.Encryption(Recipient, Passphrase)),
                }, Context);
                if (b != null) WriteObject(b);
            }
        });
    }
}
