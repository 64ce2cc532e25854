using System.Collections.Generic;
using System.Management.Automation;
using ClusterDR.Dcos;

namespace ClusterDR.Commands
{
    /// <summary>Restores the DC/OS cluster from one backup of its backup service, after the ZooKeeper guard.</summary>
    [Cmdlet(VerbsData.Restore, "DcosBackup", HelpUri = DocsUri.Base + "Restore-DcosBackup.md", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
    [OutputType(typeof(DcosRestoreInfo))]
    public sealed class RestoreDcosBackupCommand : DcosGuardedCmdletBase
    {
        [Parameter(Mandatory = true, Position = 1, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string Id { get; set; }

        private readonly List<string> _ids = new List<string>();
        private DcosRequest _request;

        protected override void ProcessRecord() => Run(() =>
        {
            _ids.Add(Id);
            _request = Request();
        });

        protected override void EndProcessing() => Run(() =>
        {
            if (_ids.Count == 0)
                throw new ClusterDrException(ErrorIds.NoBackupGiven, ErrorKind.InvalidArgument, "No backup id reached Restore-DcosBackup. Nothing was changed.");
            if (_ids.Count != 1)
                throw new ClusterDrException(ErrorIds.MultipleBackups, ErrorKind.InvalidArgument,
                    $"Restore-DcosBackup restores exactly one backup; {_ids.Count} were given ({string.Join(", ", _ids)}). Pick one (Select-Object -First 1). Nothing was changed.");
            var restore = DcosBackups.Restore(_request, _ids[0], Context);
            if (restore != null) WriteObject(restore);
        });
    }
}
