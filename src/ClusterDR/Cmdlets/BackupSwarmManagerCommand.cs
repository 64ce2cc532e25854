using System.Management.Automation;
using ClusterDR.Swarm;

namespace ClusterDR.Commands
{
    /// <summary>Backs up one manager's swarm state: guard, stop Docker, stream the swarm dir into an archive, start, unlock, wait.</summary>
    [Cmdlet(VerbsData.Backup, "SwarmManager", HelpUri = DocsUri.Base + "Backup-SwarmManager.md", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = NodeSet)]
    [OutputType(typeof(ClusterBackup))]
    public sealed class BackupSwarmManagerCommand : SwarmDaemonCmdletBase
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

        /// <summary>Back up although stopping this manager costs quorum, or it is the only manager.</summary>
        [Parameter]
        public SwitchParameter Force { get; set; }

        protected override void ProcessRecord() => Run(() =>
        {
            using (var sh = Shell())
            {
                var b = SwarmBackup.Run(new SwarmBackupRequest
                {
                    Shell = sh, Options = Options(), Directory = ArchiveParameters.Destination(this, Path, Store), Label = Label, Force = Force, UnlockKey = UnlockKey,
                    Archive = ArchiveParameters.Options(ArchiveFormat, CompressionLevel, Store, EncryptionParameters.Encryption(Recipient, Passphrase)),
                }, Context);
                if (b != null) WriteObject(b);
            }
        });
    }
}
