using System.Collections.Generic;
using System.Management.Automation;
using ClusterDR.Deis;

namespace ClusterDR.Commands
{
    /// <summary>Restores a Deis store backup onto a new platform whose store components are started.</summary>
    [Cmdlet(VerbsData.Restore, "DeisStore", HelpUri = DocsUri.Base + "Restore-DeisStore.md", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = NodeSet)]
    [OutputType(typeof(DeisRestoreResult))]
    public sealed class RestoreDeisStoreCommand : DeisStoreCmdletBase
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


        /// <summary>A store node ("localhost" or user@host:port): Ceph guard, store volume, deisctl (named here: the archive takes position 0).</summary>
        [Parameter(ParameterSetName = NodeSet)]
        [Parameter(ParameterSetName = NodeLiteralPathSet)]
        [Alias("ComputerName", "StoreNode")]
        public override string Node { get => base.Node; set => base.Node = value; }

        /// <summary>A Posh-SSH session (New-SSHSession) to a store node, instead of -Node.</summary>
        [Parameter(Mandatory = true, ParameterSetName = SessionSet)]
        [Parameter(Mandatory = true, ParameterSetName = SessionLiteralPathSet)]
        public override object SshSession { get => base.SshSession; set => base.SshSession = value; }

        /// <summary>The controller node, for -ReSave.</summary>
        [Parameter]
        public string ControllerNode { get; set; }

        /// <summary>Run the controller re-save step (keys, apps, domains) after the restore.</summary>
        [Parameter]
        public SwitchParameter ReSave { get; set; }

        /// <summary>A sh command on the database node that reads SQL on stdin.</summary>
        [Parameter]
        public string DatabaseLoadCommand { get; set; }

        /// <summary>A sh command on the controller node that runs the re-save script it reads on stdin.</summary>
        [Parameter]
        public string ControllerCommand { get; set; }

        /// <summary>Restore into buckets that already hold data. Never suppresses confirmation.</summary>
        [Parameter]
        public SwitchParameter Force { get; set; }

        private readonly List<Stores.BackupLocation> _paths = new List<Stores.BackupLocation>();

        protected override DeisNodeOptions Nodes()
        {
            var n = base.Nodes();
            if (DatabaseLoadCommand != null) n.DatabaseLoadCommand = DatabaseLoadCommand;
            if (ControllerCommand != null) n.ControllerCommand = ControllerCommand;
            return n;
        }

        protected override void ProcessRecord() => Run(() => CollectBackups(_paths, Path, LiteralPath, Store));

        protected override void EndProcessing() => Run(() =>
        {
            var path = SingleBackup(_paths);
            using (var store = StoreShell())
            using (var db = NodeShell(DatabaseNode))
            using (var controller = NodeShell(ControllerNode))
            {
                var r = DeisStoreRestore.Run(new DeisStoreRestoreRequest
                {
                    BackupPath = path, S3 = S3(), Nodes = Nodes(), StoreShell = store, DatabaseShell = db, ControllerShell = controller,
                    RestoreVolume = !SkipVolume, RestoreDatabase = IncludeDatabase, ReSave = ReSave, Force = Force,
                }, Context);
                if (r != null) WriteObject(r);
            }
        });
    }
}
