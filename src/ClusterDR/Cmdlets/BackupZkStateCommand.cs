using System;
using System.Management.Automation;
using ClusterDR.ZooKeeper;

namespace ClusterDR.Commands
{
    /// <summary>
    /// DC/OS's ZooKeeper backup on ONE server: guard, stop ZooKeeper there, stream its version-2
    /// snapshots and transaction logs into a checked archive, start it again and wait until it serves.
    /// </summary>
    [Cmdlet(VerbsData.Backup, "ZkState", HelpUri = DocsUri.Base + "Backup-ZkState.md", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(ClusterBackup))]
    public sealed class BackupZkStateCommand : NodeCmdletBase
    {
        /// <summary>The server to back up: a hashtable with ClientAddress, Node, DataDir, DataLogDir and Unit or StartCommand/StopCommand.</summary>
        [Parameter(Mandatory = true, Position = 0)]
        [ValidateNotNullOrEmpty]
        public ZkMemberSpec Member { get; set; }

        /// <summary>Client addresses (host:port) of every server of the ensemble, for the quorum guard.</summary>
        [Parameter(Mandatory = true, Position = 1)]
        [Alias("ClientAddress")]
        [ValidateNotNullOrEmpty]
        public string[] Server { get; set; }

        /// <summary>Directory that receives the archive (created when missing); with -Store, a folder of the store ("." for its root).</summary>
        [Parameter(Mandatory = true, Position = 2)]
        [Alias("Destination")]
        public string Path { get; set; }

        /// <summary>The store that receives the archive (New-ClusterBackupStore); -Path is then a folder in it ("." for its root).</summary>
        [Parameter]
        public Stores.BackupStore Store { get; set; }

        /// <summary>A short tag for the file name and manifest.</summary>
        [Parameter]
        [ValidateBackupName]
        public string Label { get; set; }

        /// <summary>Name of the ensemble for the file name and manifest (default: the first server's host).</summary>
        [Parameter]
        [ValidateBackupName]
        public string Cluster { get; set; }

        /// <summary>Seconds to wait for the server to serve and catch up again.</summary>
        [Parameter]
        [ValidateRange(5, 3600)]
        public int WaitTimeoutSec { get; set; } = 120;

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

        /// <summary>Back up even when stopping this server leaves no quorum, or the server is not serving.</summary>
        [Parameter]
        public SwitchParameter Force { get; set; }

        protected override void ProcessRecord() => Run(() =>
        {
            var b = ZkBackup.Run(new ZkBackupRequest
            {
                Member = Member,
                Servers = Server,
                Directory = ArchiveParameters.Destination(this, Path, Store),
                Label = Label,
                Cluster = Cluster,
                Force = Force,
                Ssh = Ssh(),
                Archive = ArchiveParameters.Options(ArchiveFormat, CompressionLevel, Store, EncryptionParameters.Encryption(Recipient, Passphrase)),
                WaitTimeout = TimeSpan.FromSeconds(WaitTimeoutSec),
            }, Context);
            if (b != null) WriteObject(b);
        });
    }
}
