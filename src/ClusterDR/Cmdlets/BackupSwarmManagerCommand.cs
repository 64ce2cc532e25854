using System.Management.Automation;
using ClusterDR.Swarm;

namespace ClusterDR.Commands
{
    /// <summary>Backs up one manager's swarm state: guard, stop Docker, stream the swarm dir into an archive, start, unlock, wait.</summary>
    [Cmdlet(VerbsData.Backup, "SwarmManager", HelpUri = DocsUri.Base + "Backup-SwarmManager.md", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = NodeSet)]
    [OutputType(typeof(ClusterBackup))]
    public sealed class BackupSwarmManagerCommand : SwarmDaemonCmdletBase
    {
        /// <summary>Directory that receives the archive (created when missing).</summary>
        [Parameter(Mandatory = true, Position = 1)]
        [Alias("Destination")]
        public string Path { get; set; }

        [Parameter]
        [ValidateBackupName]
        public string Label { get; set; }

        /// <summary>Back up although stopping this manager costs quorum, or it is the only manager.</summary>
        [Parameter]
        public SwitchParameter Force { get; set; }

        protected override void ProcessRecord() => Run(() =>
        {
            using (var sh = Shell())
            {
                var b = SwarmBackup.Run(new SwarmBackupRequest
                {
                    Shell = sh, Options = Options(), Directory = FileSystemPath(Path), Label = Label, Force = Force, UnlockKey = UnlockKey,
                }, Context);
                if (b != null) WriteObject(b);
            }
        });
    }
}
