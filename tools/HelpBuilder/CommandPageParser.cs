using System;
using System.Collections.Generic;
using System.Linq;
using Markdig.Extensions.Yaml;
using Markdig.Syntax;
using Markdig.Syntax.Inlines;
using YamlDotNet.Serialization;

namespace ClusterDR.HelpBuilder
{
    /// <summary>Reads a cmdlet page in PlatyPS's schema 2.0.0: front matter, then ## sections with ### entries.</summary>
    public static class CommandPageParser
    {
        private static readonly IDeserializer Yaml = new DeserializerBuilder().Build();
        private static readonly PlainText Text = new PlainText(urls: false);

        public static CommandPage Parse(string markdown)
        {
            var page = new CommandPage();
            string section = "";
            CommandParameter? parameter = null;
            Example? example = null;
            TypeEntry? type = null;
            foreach (var block in Markdown.Parse(markdown))
            {
                if (block is YamlFrontMatterBlock front)
                {
                    var fields = YamlMap(front);
                    page.HelpFile = fields.GetValueOrDefault("external help file") ?? "";
                    page.OnlineVersion = fields.GetValueOrDefault("online version") ?? "";
                    continue;
                }
                if (block is HeadingBlock h)
                {
                    string heading = Text.Inline(h.Inline);
                    if (h.Level == 1) page.Name = heading;
                    else if (h.Level == 2) { section = heading.ToUpperInvariant(); parameter = null; example = null; type = null; }
                    else switch (section)
                    {
                        case "SYNTAX": page.SetNames.Add(heading.Replace("(Default)", "").Trim()); break;
                        case "EXAMPLES": page.Examples.Add(example = new Example(heading, new(), new())); break;
                        // "### CommonParameters" is PowerShell's, not ours: it has no MAML entry.
                        case "PARAMETERS": parameter = heading.StartsWith('-') ? new CommandParameter(heading.Substring(1)) : null; if (parameter != null) page.Parameters.Add(parameter); break;
                        case "INPUTS": page.Inputs.Add(type = new TypeEntry(heading, new())); break;
                        case "OUTPUTS": page.Outputs.Add(type = new TypeEntry(heading, new())); break;
                    }
                    continue;
                }
                string para = string.Join("\n", Text.Lines(block));
                switch (section)
                {
                    case "SYNOPSIS": page.Synopsis = (page.Synopsis + " " + para).Trim(); break;
                    case "DESCRIPTION": page.Description.Add(para); break;
                    case "NOTES": page.Notes.Add(para); break;
                    case "EXAMPLES" when example != null:
                        if (block is FencedCodeBlock code && code.Info == "powershell") example.Code.Add(para);
                        else example.Remarks.Add(para);
                        break;
                    case "PARAMETERS" when parameter != null:
                        if (block is FencedCodeBlock yaml && yaml.Info == "yaml") parameter.Entries.Add(Entry(YamlMap(yaml)));
                        else parameter.Description.Add(para);
                        break;
                    case "INPUTS" or "OUTPUTS" when type != null: type.Description.Add(para); break;
                    case "RELATED LINKS":
                        page.Links.AddRange(block.Descendants<LinkInline>().Select(l => new RelatedLink(Text.Inline(l), l.Url ?? "")));
                        break;
                }
            }
            return page;
        }

        private static Dictionary<string, string?> YamlMap(LeafBlock block)
        {
            // The front matter block keeps its --- fences as lines; YAML would read them as document markers anyway.
            string yaml = string.Join("\n", block.Lines.Lines.Take(block.Lines.Count).Select(l => l.ToString()));
            return Yaml.Deserialize<Dictionary<string, string?>>(yaml) ?? new();
        }

        private static ParameterEntry Entry(Dictionary<string, string?> y)
        {
            string Field(string key, string otherwise = "") => y.GetValueOrDefault(key)?.Trim() is { Length: > 0 } v ? v : otherwise;
            return new ParameterEntry(
                Field("Parameter Sets", "(All)").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries),
                Field("Type", "Object"), Field("Aliases"), Field("Accepted values"),
                string.Equals(Field("Required"), "True", StringComparison.OrdinalIgnoreCase),
                Field("Position", "Named"), Field("Default value", "None"), Field("Accept pipeline input", "False"),
                string.Equals(Field("Accept wildcard characters"), "True", StringComparison.OrdinalIgnoreCase));
        }
    }
}
