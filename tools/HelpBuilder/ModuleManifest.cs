using System.Collections.Generic;
using System.Linq;
using System.Text.RegularExpressions;

namespace ClusterDR.HelpBuilder
{
    /// <summary>The cmdlets a module manifest exports, read without PowerShell (the build runs where there is none).</summary>
    public static class ModuleManifest
    {
        public static IReadOnlyList<string> ExportedCmdlets(string psd1)
        {
            var block = Regex.Match(psd1, @"CmdletsToExport\s*=\s*@\((?<list>[^)]*)\)").Groups["list"].Value;
            return Regex.Matches(block, @"'([\w-]+)'").Select(m => m.Groups[1].Value).ToList();
        }
    }
}
