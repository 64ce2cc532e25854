using System;
using System.Management.Automation;
using ClusterDR.Etcd;

namespace ClusterDR.Commands
{
    /// <summary>
    /// Streams an etcd v3 snapshot into a verified backup archive, over the client URL from here
    /// (-Endpoint) or by running etcdctl on a node (-Node / -SshSession) for etcd bound to its loopback.
    /// </summary>
    [Cmdlet(VerbsData.Backup, "EtcdSnapshot", HelpUri = DocsUri.Base + "Backup-EtcdSnapshot.md", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low, DefaultParameterSetName = EndpointSet)]
    [OutputType(typeof(ClusterBackup))]
    public sealed class BackupEtcdSnapshotCommand : EtcdNodeCmdletBase
    {
        /// <summary>The member's client URL. With -Node/-SshSession, as that node sees it.</summary>
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = EndpointSet, ValueFromPipelineByPropertyName = true)]
        [Parameter(ParameterSetName = NodeSet, ValueFromPipelineByPropertyName = true)]
        [Parameter(ParameterSetName = SessionSet, ValueFromPipelineByPropertyName = true)]
        [Alias("ClientUrl", "Endpoints")]
        public Uri Endpoint { get; set; }

        /// <summary>Directory that receives the archive (created when missing); with -Store, a folder of the store ("." for its root).</summary>
        [Parameter(Mandatory = true, Position = 1)]
        [Alias("Destination")]
        public string Path { get; set; }

        /// <summary>The store that receives the archive (New-ClusterBackupStore); -Path is then a folder in it ("." for its root).</summary>
        [Parameter]
        public Stores.BackupStore Store { get; set; }

        /// <summary>A short tag for the file name and manifest.</summary>
        [Parameter]
        [ValidateBackupName]
        public string Label { get; set; }

        /// <summary>etcdctl on the node.</summary>
        [Parameter(ParameterSetName = NodeSet)]
        [Parameter(ParameterSetName = SessionSet)]
        public string EtcdctlPath { get; set; } = "etcdctl";

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

        /// <summary>Back up even when the member is not part of a quorate cluster (its data may be stale).</summary>
        [Parameter]
        public SwitchParameter Force { get; set; }

        protected override void ProcessRecord() => Run(() =>
        {
            var req = new EtcdBackupRequest
            {
                Endpoint = Endpoint ?? new Uri("http://127.0.0.1:2379"),
                Tls = Tls(),
                Directory = ArchiveParameters.Destination(this, Path, Store),
                Label = Label,
                Force = Force,
                Etcdctl = EtcdctlPath,
                Archive = ArchiveParameters.Options(ArchiveFormat, CompressionLevel, Store, EncryptionParameters.Encryption(Recipient, Passphrase)),
            };
            if (ParameterSetName == EndpointSet)
            {
                var b = EtcdBackup.Run(req, Context);
                if (b != null) WriteObject(b);
                return;
            }
            req.Tls = NodeTls();
            using (var shell = Shell())
            {
                req.Shell = shell;
                var b = EtcdBackup.Run(req, Context);
                if (b != null) WriteObject(b);
            }
        });
    }
}
