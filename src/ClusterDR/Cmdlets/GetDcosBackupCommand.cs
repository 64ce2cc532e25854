using System.Management.Automation;
using ClusterDR.Dcos;

namespace ClusterDR.Commands
{
    /// <summary>Lists the backups of the DC/OS backup service with their restores, by id or by label prefix.</summary>
    [Cmdlet(VerbsCommon.Get, "DcosBackup", HelpUri = DocsUri.Base + "Get-DcosBackup.md", DefaultParameterSetName = LabelSet)]
    [OutputType(typeof(DcosBackupInfo))]
    public sealed class GetDcosBackupCommand : DcosCmdletBase
    {
        private const string LabelSet = "Label", IdSet = "Id";

        [Parameter(Mandatory = true, Position = 1, ParameterSetName = IdSet, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string[] Id { get; set; }

        /// <summary>Only backups whose label starts with this text.</summary>
        [Parameter(ParameterSetName = LabelSet)]
        public string Label { get; set; }

        protected override void ProcessRecord() => Run(() =>
        {
            foreach (var id in Id ?? new string[] { null })
            {
                try { WriteObject(DcosBackups.Get(Request(), id, id == null ? Label : null, Context), enumerateCollection: true); }
                catch (ClusterDrException ex) when (ex.ErrorId == ErrorIds.DcosBackupNotFound) { WriteEngineError(ex); }
            }
        });
    }
}
