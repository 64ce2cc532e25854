using System;
using System.Collections.Generic;
using System.Linq;
using System.Xml.Linq;

namespace ClusterDR.HelpBuilder
{
    /// <summary>
    /// Writes pages as MAML in the shape PowerShell's help system reads (the shape PlatyPS's New-ExternalHelp writes):
    /// helpItems/command:command with details, description, syntax, parameters, inputTypes, returnValues,
    /// alertSet, examples and relatedLinks, the online version first so that Get-Help -Online opens it.
    /// </summary>
    public static class MamlWriter
    {
        private static readonly XNamespace Msh = "http://msh";
        private static readonly XNamespace Maml = "http://schemas.microsoft.com/maml/2004/10";
        private static readonly XNamespace Command = "http://schemas.microsoft.com/maml/dev/command/2004/10";
        private static readonly XNamespace Dev = "http://schemas.microsoft.com/maml/dev/2004/10";
        private static readonly XNamespace MSHelp = "http://msdn.microsoft.com/mshelp";

        public static XDocument Write(IEnumerable<CommandPage> pages) =>
            new XDocument(new XDeclaration("1.0", "utf-8", null),
                new XElement(Msh + "helpItems", new XAttribute("schema", "maml"), pages.Select(CommandElement)));

        private static XElement CommandElement(CommandPage page)
        {
            var nameParts = page.Name.Split('-', 2);
            return new XElement(Command + "command",
                new XAttribute(XNamespace.Xmlns + "maml", Maml), new XAttribute(XNamespace.Xmlns + "command", Command),
                new XAttribute(XNamespace.Xmlns + "dev", Dev), new XAttribute(XNamespace.Xmlns + "MSHelp", MSHelp),
                new XElement(Command + "details",
                    new XElement(Command + "name", page.Name),
                    new XElement(Command + "verb", nameParts[0]),
                    new XElement(Command + "noun", nameParts.Length > 1 ? nameParts[1] : ""),
                    Description(new[] { page.Synopsis })),
                Description(page.Description),
                new XElement(Command + "syntax", SyntaxItems(page)),
                new XElement(Command + "parameters", page.Parameters.Select(p => Parameter(p, p.Entries[0], inSyntax: false))),
                new XElement(Command + "inputTypes", page.Inputs.Select(t => TypeElement("inputType", t))),
                new XElement(Command + "returnValues", page.Outputs.Select(t => TypeElement("returnValue", t))),
                new XElement(Maml + "alertSet", new XElement(Maml + "alert", Paras(page.Notes))),
                new XElement(Command + "examples", page.Examples.Select(ExampleElement)),
                new XElement(Command + "relatedLinks",
                    Link("Online Version:", page.OnlineVersion),
                    page.Links.Select(l => Link(l.Text, IsWebAddress(l.Uri) ? l.Uri : ""))));
        }

        private static IEnumerable<XElement> SyntaxItems(CommandPage page)
        {
            var sets = page.SetNames.Count > 0 ? page.SetNames
                : page.Parameters.SelectMany(p => p.Entries).SelectMany(e => e.Sets).Where(s => s != "(All)").Distinct().ToList();
            if (sets.Count == 0) sets = new List<string> { "(All)" };
            foreach (var set in sets)
            {
                var members = page.Parameters.Select(p => (p, e: p.Entries.FirstOrDefault(e => e.InSet(set)))).Where(x => x.e != null)
                    // Positional parameters first in position order, then the mandatory ones, as PowerShell's own syntax shows them.
                    .OrderBy(x => int.TryParse(x.e!.Position, out var pos) ? pos : int.MaxValue).ThenBy(x => x.e!.Required ? 0 : 1);
                yield return new XElement(Command + "syntaxItem", new XElement(Maml + "name", page.Name),
                    members.Select(x => Parameter(x.p, x.e!, inSyntax: true)));
            }
        }

        private static XElement Parameter(CommandParameter p, ParameterEntry e, bool inSyntax)
        {
            var accepted = e.AcceptedValues.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            XElement? value = null;
            if (inSyntax && accepted.Length > 0)
                value = new XElement(Command + "parameterValueGroup", accepted.Select(v => new XElement(Command + "parameterValue",
                    new XAttribute("required", "false"), new XAttribute(Command + "variableLength", "false"), v)));
            // A switch shows as [-Force] in the syntax, and as "-Force <SwitchParameter>" in the parameter list.
            else if (!(inSyntax && e.IsSwitch))
                value = new XElement(Command + "parameterValue", new XAttribute("required", e.IsSwitch ? "false" : "true"),
                    new XAttribute("variableLength", "false"), e.Type);
            return new XElement(Command + "parameter",
                new XAttribute("required", e.Required ? "true" : "false"),
                new XAttribute("variableLength", "true"),
                new XAttribute("globbing", e.Globbing ? "true" : "false"),
                new XAttribute("pipelineInput", e.PipelineInput),
                new XAttribute("position", int.TryParse(e.Position, out _) ? e.Position : "named"),
                new XAttribute("aliases", e.Aliases.Length > 0 ? e.Aliases : "none"),
                new XElement(Maml + "name", p.Name),
                Description(p.Description),
                value,
                new XElement(Dev + "type", new XElement(Maml + "name", e.Type), new XElement(Maml + "uri")),
                new XElement(Dev + "defaultValue", e.DefaultValue));
        }

        private static XElement TypeElement(string name, TypeEntry t) =>
            new XElement(Command + name, new XElement(Dev + "type", new XElement(Maml + "name", t.Name)), Description(t.Description));

        private static XElement ExampleElement(Example e) =>
            new XElement(Command + "example",
                new XElement(Maml + "title", $"---------- {e.Title} ----------"),
                new XElement(Dev + "code", string.Join("\n\n", e.Code)),
                new XElement(Dev + "remarks", Paras(e.Remarks)));

        private static XElement Link(string text, string uri) =>
            new XElement(Maml + "navigationLink", new XElement(Maml + "linkText", text), new XElement(Maml + "uri", uri));

        private static XElement Description(IEnumerable<string> paras) => new XElement(Maml + "description", Paras(paras));

        private static IEnumerable<XElement> Paras(IEnumerable<string> paras) => paras.Select(p => new XElement(Maml + "para", p));

        private static bool IsWebAddress(string uri) =>
            Uri.TryCreate(uri, UriKind.Absolute, out var u) && (u.Scheme == Uri.UriSchemeHttp || u.Scheme == Uri.UriSchemeHttps);
    }
}
