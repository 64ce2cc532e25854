using System;
using System.IO;
using System.Linq;
using System.Xml.Linq;
using ClusterDR.Tests.Fixtures;
using Xunit;

namespace ClusterDR.Tests.Help
{
    /// <summary>tools/HelpBuilder as build.sh runs it, on a copy of docs/en-US.</summary>
    public sealed class HelpBuilderTests : IDisposable
    {
        private readonly string _dir = Path.Combine(Path.GetTempPath(), "clusterdr-help-" + Guid.NewGuid().ToString("N").Substring(0, 8));
        private string Docs => Path.Combine(_dir, "docs");
        private string Output => Path.Combine(_dir, "en-US");

        public HelpBuilderTests()
        {
            Directory.CreateDirectory(Docs);
            foreach (var f in Directory.GetFiles(Path.Combine(TestEnv.RepoRoot, "docs", "en-US"), "*.md"))
                File.Copy(f, Path.Combine(Docs, Path.GetFileName(f)));
        }

        public void Dispose() => Directory.Delete(_dir, recursive: true);

        private string Build() => Shell.Run("dotnet", Path.Combine(AppContext.BaseDirectory, "HelpBuilder.dll"),
            Docs, Path.Combine(TestEnv.RepoRoot, "ClusterDR.psd1"), Output);

        [Fact]
        public void WritesMamlForEveryExportedCmdletAndAPlainTextAboutTopic()
        {
            Build();
            var maml = XDocument.Load(Path.Combine(Output, "ClusterDR.dll-Help.xml"));
            XNamespace command = "http://schemas.microsoft.com/maml/dev/command/2004/10", maml_ = "http://schemas.microsoft.com/maml/2004/10";
            var commands = maml.Root!.Elements(command + "command").ToList();
            Assert.Equal(28, commands.Count);
            var backup = commands.Single(c => c.Element(command + "details")!.Element(command + "name")!.Value == "Backup-EtcdSnapshot");
            // -Endpoint is positional and mandatory in the Endpoint set, named and optional with -Node.
            var endpoints = backup.Element(command + "syntax")!.Elements(command + "syntaxItem")
                .Select(i => i.Elements(command + "parameter").Single(p => p.Element(maml_ + "name")!.Value == "Endpoint")).ToList();
            Assert.Equal(new[] { "true", "false", "false" }, endpoints.Select(p => p.Attribute("required")!.Value));
            Assert.Equal(new[] { "0", "named", "named" }, endpoints.Select(p => p.Attribute("position")!.Value));
            Assert.Equal("https://github.com/clusterdr/ClusterDR/blob/main/docs/en-US/Backup-EtcdSnapshot.md",
                backup.Element(command + "relatedLinks")!.Elements(maml_ + "navigationLink").First().Element(maml_ + "uri")!.Value);

            string about = File.ReadAllText(Path.Combine(Output, "about_ClusterDR.help.txt"));
            Assert.StartsWith("TOPIC\n    about_ClusterDR\n", about);
            Assert.DoesNotContain("```", about);
            Assert.DoesNotContain("|---", about);
            Assert.Contains("    Restore-DeisStore  ", about);
        }

        [Fact]
        public void FailsWhenAnExportedCmdletHasNoPage()
        {
            File.Delete(Path.Combine(Docs, "Repair-SwarmQuorum.md"));
            var e = Assert.Throws<InvalidOperationException>(() => Build());
            Assert.Contains("Repair-SwarmQuorum.md: missing", e.Message);
            Assert.False(File.Exists(Path.Combine(Output, "ClusterDR.dll-Help.xml")));
        }

        [Fact]
        public void FailsWhenAParameterHasNoDescription()
        {
            string page = Path.Combine(Docs, "Get-ClusterBackup.md");
            string text = File.ReadAllText(page);
            File.WriteAllText(page, text.Replace("Searches subdirectories of each directory given in **Path** too.\n", ""));
            var e = Assert.Throws<InvalidOperationException>(() => Build());
            Assert.Contains("Get-ClusterBackup.md: -Recurse has no description", e.Message);
        }
    }
}
