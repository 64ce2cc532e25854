using System.Management.Automation;
using ClusterDR.Dcos;

namespace ClusterDR.Commands
{
    /// <summary>Starts a backup in the DC/OS backup service, after checking ZooKeeper on the masters when -ExhibitorUri is given.</summary>
    [Cmdlet(VerbsCommon.New, "DcosBackup", HelpUri = DocsUri.Base + "New-DcosBackup.md", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(DcosBackupInfo))]
    public sealed class NewDcosBackupCommand : DcosGuardedCmdletBase
    {
        /// <summary>3 to 25 characters of [A-Za-z0-9_.-], not starting with "..".</summary>
        [Parameter(Mandatory = true, Position = 1)]
        public string Label { get; set; }

        protected override void ProcessRecord() => Run(() =>
        {
            var backup = DcosBackups.Create(Request(), Label, Context);
            if (backup != null) WriteObject(backup);
        });
    }
}
