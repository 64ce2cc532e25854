using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using ClusterDR.HelpBuilder;

// HelpBuilder <docs dir> <module manifest> <output dir>: MAML and the about topic for every exported cmdlet,
// or a non-zero exit naming every page that would leave Get-Help without something.
if (args.Length != 3)
{
    Console.Error.WriteLine("usage: HelpBuilder <docs/en-US> <Module.psd1> <out/Module/en-US>");
    return 2;
}
string docs = args[0], psd1 = args[1], output = args[2];
string module = Path.GetFileNameWithoutExtension(psd1);
var exported = ModuleManifest.ExportedCmdlets(File.ReadAllText(psd1));
var problems = new List<string>();
var pages = new List<CommandPage>();
if (exported.Count == 0) problems.Add($"{psd1}: CmdletsToExport lists no cmdlet");
foreach (var name in exported)
{
    string file = Path.Combine(docs, name + ".md");
    if (!File.Exists(file)) { problems.Add($"{file}: missing; every exported cmdlet needs a page"); continue; }
    var page = CommandPageParser.Parse(File.ReadAllText(file));
    problems.AddRange(page.Problems(name).Select(p => $"{file}: {p}"));
    pages.Add(page);
}
string aboutFile = Path.Combine(docs, $"about_{module}.md");
string about = File.Exists(aboutFile) ? File.ReadAllText(aboutFile) : "";
if (about.Length == 0) problems.Add($"{aboutFile}: missing");
else problems.AddRange(exported.Except(AboutTopic.TableCmdlets(about)).Select(c => $"{aboutFile}: {c} is not in the cmdlet table"));
var helpFiles = pages.Select(p => p.HelpFile).Distinct().ToList();
if (helpFiles.Count > 1 || helpFiles.Any(f => f.Length == 0)) problems.Add($"pages name different or no 'external help file': {string.Join(", ", helpFiles)}");

if (problems.Count > 0)
{
    foreach (var p in problems) Console.Error.WriteLine("error: " + p);
    return 1;
}
Directory.CreateDirectory(output);
var utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);
MamlWriter.Write(pages).Save(Path.Combine(output, helpFiles[0]));
File.WriteAllText(Path.Combine(output, $"about_{module}.help.txt"), AboutTopic.Render(about), utf8);
Console.WriteLine($"help: {pages.Count} cmdlets and about_{module} in {output}");
return 0;
