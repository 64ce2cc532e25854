using System.Collections.Generic;
using System.Management.Automation;
using ClusterDR.Swarm;

namespace ClusterDR.Commands
{
    /// <summary>Restores a manager backup onto one host and forces a new one-manager cluster from it.</summary>
    [Cmdlet(VerbsData.Restore, "SwarmManager", HelpUri = DocsUri.Base + "Restore-SwarmManager.md", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = NodeSet)]
    [OutputType(typeof(SwarmRestoreResult))]
    public sealed class RestoreSwarmManagerCommand : SwarmDaemonCmdletBase
    {
        private const string NodeLiteralPathSet = "NodeLiteralPath", SessionLiteralPathSet = "SshSessionLiteralPath";

        /// <summary>The backup archive; wildcards are expanded and must name exactly one backup. Binds strings from the pipeline.</summary>
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = NodeSet, ValueFromPipeline = true)]
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = SessionSet, ValueFromPipeline = true)]
        public string[] Path { get; set; }

        /// <summary>The backup archive, taken exactly as written; binds ClusterBackup objects (FullName) and files (PSPath) from the pipeline.</summary>
        [Parameter(Mandatory = true, ParameterSetName = NodeLiteralPathSet, ValueFromPipelineByPropertyName = true)]
        [Parameter(Mandatory = true, ParameterSetName = SessionLiteralPathSet, ValueFromPipelineByPropertyName = true)]
        [Alias("PSPath", "FullName")]
        public string[] LiteralPath { get; set; }

        /// <summary>The store the backup is in (New-ClusterBackupStore): paths are then keys or URIs of its objects. Binds ClusterBackup objects' Store from the pipeline; without it, paths are files.</summary>
        // Bound from the pipeline in the -LiteralPath sets only: in the default -Path set a piped backup would bind
        // -Store by name first, and PowerShell would then take the object itself for -Path as a string.
        [Parameter(ParameterSetName = NodeSet)]
        [Parameter(ParameterSetName = SessionSet)]
        [Parameter(ParameterSetName = NodeLiteralPathSet, ValueFromPipelineByPropertyName = true)]
        [Parameter(ParameterSetName = SessionLiteralPathSet, ValueFromPipelineByPropertyName = true)]
        public Stores.BackupStore Store { get; set; }

        /// <summary>
        /// Files of age identities (New-ClusterBackupKey's or age-keygen's AGE-SECRET-KEY-1… lines) that open encrypted
        /// backups. Not -IdentityFile: that is the SSH key of the cmdlets that reach nodes.
        /// </summary>
        [Parameter]
        public string[] DecryptionKeyFile { get; set; }

        /// <summary>An age identity as a SecureString (the AGE-SECRET-KEY-1… text, e.g. from an Automation credential), for when no file may hold it.</summary>
        [Parameter]
        public System.Security.SecureString DecryptionKey { get; set; }

        /// <summary>The passphrase of a passphrase-encrypted backup.</summary>
        [Parameter]
        public System.Security.SecureString Passphrase { get; set; }

        private Encryption.AgeKeyring _keyring;

        /// <summary>The keys given, read once.</summary>
        protected override Encryption.AgeKeyring Keyring => _keyring ?? (_keyring = EncryptionParameters.Keyring(this, DecryptionKeyFile, DecryptionKey, Passphrase));


        /// <summary>The manager: "localhost" or an SSH target user@host:port (named here: the archive takes position 0).</summary>
        [Parameter(Mandatory = true, ParameterSetName = NodeSet, ValueFromPipelineByPropertyName = true)]
        [Parameter(Mandatory = true, ParameterSetName = NodeLiteralPathSet, ValueFromPipelineByPropertyName = true)]
        [Alias("ComputerName")]
        public override string Node { get => base.Node; set => base.Node = value; }

        /// <summary>A Posh-SSH session (New-SSHSession) to the manager.</summary>
        [Parameter(Mandatory = true, ParameterSetName = SessionSet)]
        [Parameter(Mandatory = true, ParameterSetName = SessionLiteralPathSet)]
        public override object SshSession { get => base.SshSession; set => base.SshSession = value; }

        /// <summary>--advertise-addr of the new cluster.</summary>
        [Parameter]
        public string AdvertiseAddress { get; set; }

        /// <summary>--listen-addr of the new cluster.</summary>
        [Parameter]
        public string ListenAddress { get; set; }

        /// <summary>Restore onto a host that is an active member of a healthy swarm. Never suppresses confirmation.</summary>
        [Parameter]
        public SwitchParameter Force { get; set; }

        private readonly List<Stores.BackupLocation> _paths = new List<Stores.BackupLocation>();

        protected override void ProcessRecord() => Run(() => CollectBackups(_paths, Path, LiteralPath, Store));

        protected override void EndProcessing() => Run(() =>
        {
            var path = SingleBackup(_paths);
            using (var sh = Shell())
            {
                var r = SwarmRestore.Run(new SwarmRestoreRequest
                {
                    BackupPath = path, Shell = sh, Options = Options(), AdvertiseAddress = AdvertiseAddress,
                    ListenAddress = ListenAddress, UnlockKey = UnlockKey, Force = Force,
                }, Context);
                if (r != null) WriteObject(r);
            }
        });
    }
}
