using System.Management.Automation;
using ClusterDR.Dcos;

namespace ClusterDR.Commands
{
    /// <summary>Deletes backups from the DC/OS backup service (backup ids only; a restore id is refused).</summary>
    [Cmdlet(VerbsCommon.Remove, "DcosBackup", HelpUri = DocsUri.Base + "Remove-DcosBackup.md", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
    [OutputType(typeof(void))]
    public sealed class RemoveDcosBackupCommand : DcosCmdletBase
    {
        [Parameter(Mandatory = true, Position = 1, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string[] Id { get; set; }

        protected override void ProcessRecord() => Run(() =>
        {
            foreach (var id in Id)
            {
                try { DcosBackups.Remove(Request(), id, Context); }
                catch (ClusterDrException ex) { WriteEngineError(ex); }
            }
        });
    }
}
