// wb story VERB PROJECT ...: the story tree from the command line, through the
// same core Story API the GUI uses.
//
//   wb story new P --model M [--tokenizer T] [--title X] [--text S]
//   wb story append P [NODE] (--text S | --text-file F)      new child; prints its id
//   wb story fork P NODE (--text S | --text-file F)          another child of NODE
//   wb story edit P NODE --at BYTE --text S                   non-destructive edit
//   wb story continue P [NODE] [-n N] [--alternatives K] [sampler flags]
//   wb story list P [--json]
//   wb story switch P NODE
//   wb story show P [NODE]                                    the path's text
//   wb story label P NODE TEXT | bookmark P NODE [--off] | delete P NODE
//   wb story export P [NODE] [--format txt|md|json] [--out F]
//   wb story import P --json F --model M [--tokenizer T]
// NODE: an id or a label; by default the current node. Every command leaves
// the project consistent on disk when it returns (or is killed).
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/story_support.hpp"
#include "cli/verbs.hpp"
#include "core/tree/tree_json.hpp"

namespace wb::cli {
namespace {

using session::Story;
using tree::NodeId;

struct Opened {
  std::unique_ptr<Model> model;
  std::unique_ptr<Story> story;
};

// Opens the project; loads its model when `with_model` (or --model overrides it).
Result<Opened> open_story(const std::string& path, bool with_model, const std::optional<std::string>& model_override,
                          const std::string& backend) {
  WB_TRY(project, project::Project::open(path));
  WB_TRY(model_meta, project->meta("model"));
  WB_TRY(tok_meta, project->meta("tokenizer"));
  Opened o;
  session::TextCodec codec = session::byte_codec();
  std::string tok = tok_meta.value_or("byte");
  if (with_model) {
    std::string mp = model_override.value_or(model_meta.value_or(""));
    if (mp.empty()) return make_error(Errc::invalid_argument, "project '{}' names no model; pass --model", path);
    WB_TRY(mc, load_model_and_codec(mp, tok, backend));
    o.model = std::move(mc.model);
    codec = std::move(mc.codec);
  } else if (tok != "byte") {
    WB_TRY(c, session::load_codec(tok));
    codec = std::move(c);
  }
  WB_TRY(story, Story::attach(std::move(project), o.model.get(), std::move(codec), {}));
  o.story = std::move(story);
  return o;
}

Result<std::string> text_arg(Args& args) {
  WB_TRY(text, args.value("--text"));
  WB_TRY(file, args.value("--text-file"));
  if (text.has_value() == file.has_value())
    return make_error(Errc::invalid_argument, "give exactly one of --text or --text-file");
  if (text) return *text;
  std::ifstream f(*file, std::ios::binary);
  if (!f) return make_error(Errc::io, "cannot read '{}'", *file);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

Result<NodeId> node_or_current(const Story& s, const std::vector<std::string>& pos, std::size_t i) {
  if (pos.size() > i) return resolve_node(s, pos[i]);
  return s.current();
}

void print_tree(const Story& s) {
  tree::Tree t = s.tree_copy();
  NodeId cur = s.current();
  std::vector<std::pair<NodeId, int>> stack{{t.root(), 0}};
  while (!stack.empty()) {
    auto [id, depth] = stack.back();
    stack.pop_back();
    const tree::Node* n = t.find(id);
    std::string preview = one_line(n->text.substr(0, 60)) + (n->text.size() > 60 ? "..." : "");
    std::printf("%*s%llu%s %s %zu tokens%s%s \"%s\"\n", depth * 2, "", static_cast<unsigned long long>(id),
                id == cur ? " *" : "", n->origin.c_str(), n->tokens.size(), n->bookmark ? " [bookmark]" : "",
                n->label.empty() ? "" : (" [" + n->label + "]").c_str(), preview.c_str());
    for (auto it = n->children.rbegin(); it != n->children.rend(); ++it) stack.emplace_back(*it, depth + 1);
  }
}

int story_new(Args& args, const std::string& path) {
  auto model = args.value("--model");
  auto tok = args.value("--tokenizer");
  auto title = args.value("--title");
  auto text = args.value("--text");
  auto backend = args.value("--backend");
  for (auto* r : {&model, &tok, &title, &text, &backend})
    if (!*r) return fail(r->error());
  if (auto st = args.reject_unknown(); !st) return fail(st.error());
  if (!*model) return fail(make_error(Errc::invalid_argument, "usage: wb story new P --model M [--tokenizer T]"));
  // Load the model now: a project names a model that really opens.
  auto mc = load_model_and_codec(**model, tok->value_or(""), backend->value_or(""));
  if (!mc) return fail(mc.error());
  auto project = project::Project::create(path);
  if (!project) return fail(project.error());
  std::error_code ec;
  auto abs = std::filesystem::absolute(**model, ec);
  for (auto [k, v] : {std::pair<std::string, std::string>{"model", ec ? **model : abs.string()},
                      {"tokenizer", mc->tokenizer_spec},
                      {"model_key", mc->model->info().model_key},
                      {"title", title->value_or(std::filesystem::path(path).stem().string())}})
    if (auto st = (*project)->set_meta(k, v); !st) return fail(st.error());
  auto story = Story::attach(std::move(*project), mc->model.get(), std::move(mc->codec), {});
  if (!story) return fail(story.error());
  NodeId cur = (*story)->tree_root();
  if (*text) {
    auto id = (*story)->append(cur, **text);
    if (!id) return fail(id.error());
    cur = *id;
    if (auto sw = (*story)->switch_to(cur); !sw) return fail(sw.error());
    if (auto st = (*story)->store_snapshots(); !st) return fail(st.error());
  }
  std::printf("%llu\n", static_cast<unsigned long long>(cur));
  return 0;
}

int story_import(Args& args, const std::string& path) {
  auto json = args.value("--json");
  auto model = args.value("--model");
  auto tok = args.value("--tokenizer");
  for (auto* r : {&json, &model, &tok})
    if (!*r) return fail(r->error());
  if (auto st = args.reject_unknown(); !st) return fail(st.error());
  if (!*json || !*model)
    return fail(make_error(Errc::invalid_argument, "usage: wb story import P --json F --model M [--tokenizer T]"));
  std::ifstream f(**json, std::ios::binary);
  if (!f) return fail(make_error(Errc::io, "cannot read '{}'", **json));
  std::ostringstream ss;
  ss << f.rdbuf();
  auto t = tree::from_json(ss.str());
  if (!t) return fail(make_error(t.error().code, "{}: {}", **json, t.error().message));
  auto project = project::Project::create(path);
  if (!project) return fail(project.error());
  std::error_code ec;
  auto abs = std::filesystem::absolute(**model, ec);
  if (auto st = (*project)->set_meta("model", ec ? **model : abs.string()); !st) return fail(st.error());
  if (auto st = (*project)->set_meta("tokenizer", tok->value_or("byte")); !st) return fail(st.error());
  std::vector<NodeId> all = t->ids();
  if (auto st = (*project)->sync(*t, all); !st) return fail(st.error());
  std::printf("%zu nodes\n", all.size());
  return 0;
}

Status story_verb(Args& args, const std::string& verb, const std::string& path) {
  WB_TRY(model_override, args.value("--model"));
  WB_TRY(backend_opt, args.value("--backend"));
  const std::string backend = backend_opt.value_or("");
  auto pos = [&] { return args.positionals(); };

  if (verb == "continue") {
    WB_TRY(n, args.integer("-n"));
    WB_TRY(alts, args.integer("--alternatives"));
    WB_TRY(settings, sampler_from_args(args));
    WB_CHECK(args.reject_unknown());
    if (n && (*n < 0 || *n > 10'000'000)) return make_error(Errc::invalid_argument, "-n must be 0..10000000");
    WB_TRY(o, open_story(path, true, model_override, backend));
    WB_TRY(from, node_or_current(*o.story, pos(), 2));
    session::GenerateOptions g;
    g.settings = settings;
    if (n) g.settings.max_tokens = static_cast<int>(*n);
    g.alternatives = static_cast<int>(alts.value_or(1));
    double tps = 0;
    auto on_event = [&](const session::Event& e) {
      if (e.kind == session::Event::Kind::finished) tps = e.tokens_per_s;
    };
    WB_TRY(kids, o.story->continue_from(from, g, on_event, nullptr));
    if (!kids.empty()) {
      WB_TRY(sw, o.story->switch_to(kids.front()));
      (void)sw;
    }
    for (NodeId k : kids)
      std::printf("%llu\t%s\n", static_cast<unsigned long long>(k), one_line(o.story->node(k)->text).c_str());
    std::fprintf(stderr, "%.1f tokens/s\n", tps);
    return {};
  }
  if (verb == "append" || verb == "fork" || verb == "edit") {
    WB_TRY(text, text_arg(args));
    WB_TRY(at, args.integer("--at"));
    WB_CHECK(args.reject_unknown());
    if (verb == "edit" && !at) return make_error(Errc::invalid_argument, "edit needs --at BYTE (offset inside NODE)");
    if (verb != "edit" && at) return make_error(Errc::invalid_argument, "--at is for edit");
    if (verb != "append" && pos().size() < 3) return make_error(Errc::invalid_argument, "{} needs a NODE", verb);
    WB_TRY(o, open_story(path, false, std::nullopt, backend));
    WB_TRY(node, node_or_current(*o.story, pos(), 2));
    NodeId id;
    if (verb == "edit") {
      if (*at < 0) return make_error(Errc::invalid_argument, "--at must not be negative");
      WB_TRY(e, o.story->edit(node, static_cast<std::size_t>(*at), text));
      id = e;
    } else {
      WB_TRY(a, o.story->append(node, text));
      id = a;
    }
    // The new node becomes current; its state is computed when it is needed.
    WB_CHECK(o.story->project().set_meta("current", std::to_string(id)));
    std::printf("%llu\n", static_cast<unsigned long long>(id));
    return {};
  }
  if (verb == "switch") {
    WB_CHECK(args.reject_unknown());
    if (pos().size() < 3) return make_error(Errc::invalid_argument, "switch needs a NODE");
    WB_TRY(o, open_story(path, true, model_override, backend));
    WB_TRY(node, resolve_node(*o.story, pos()[2]));
    WB_TRY(info, o.story->switch_to(node));
    WB_CHECK(o.story->store_snapshots());
    std::printf("%llu\n", static_cast<unsigned long long>(node));
    std::fprintf(stderr, "recomputed %zu tokens in %.3f ms\n", info.recomputed_tokens, info.ms);
    return {};
  }
  if (verb == "list") {
    bool json = args.flag("--json");
    WB_CHECK(args.reject_unknown());
    WB_TRY(o, open_story(path, false, std::nullopt, backend));
    if (json) std::printf("%s\n", tree::to_json(o.story->tree_copy()).c_str());
    else print_tree(*o.story);
    return {};
  }
  if (verb == "show" || verb == "export") {
    WB_TRY(format, args.value("--format"));
    WB_TRY(out, args.value("--out"));
    WB_CHECK(args.reject_unknown());
    WB_TRY(o, open_story(path, false, std::nullopt, backend));
    WB_TRY(node, node_or_current(*o.story, pos(), 2));
    std::string f = format.value_or("txt");
    if (!format && out) {
      std::string ext = std::filesystem::path(*out).extension().string();
      if (ext == ".md" || ext == ".json") f = ext.substr(1);
    }
    std::string body;
    if (f == "json") {
      body = tree::to_json(o.story->tree_copy());
    } else {
      WB_TRY(b, o.story->export_path(node, f));
      body = std::move(b);
    }
    if (out) {
      std::ofstream of(*out, std::ios::binary | std::ios::trunc);
      of << body;
      if (!of.good()) return make_error(Errc::io, "cannot write '{}'", *out);
    } else {
      std::fwrite(body.data(), 1, body.size(), stdout);
      if (f == "txt") std::printf("\n");
    }
    return {};
  }
  if (verb == "label" || verb == "bookmark" || verb == "delete") {
    bool off = args.flag("--off");
    WB_CHECK(args.reject_unknown());
    auto p = pos();
    if (p.size() < 3 || (verb == "label" && p.size() < 4))
      return make_error(Errc::invalid_argument, "{} needs {}", verb, verb == "label" ? "NODE TEXT" : "a NODE");
    WB_TRY(o, open_story(path, false, std::nullopt, backend));
    WB_TRY(node, resolve_node(*o.story, p[2]));
    if (verb == "label") return o.story->set_label(node, p[3]);
    if (verb == "bookmark") return o.story->set_bookmark(node, !off);
    return o.story->remove(node);
  }
  return make_error(Errc::invalid_argument, "unknown story verb '{}'", verb);
}

}  // namespace

int cmd_story(Args& args) {
  auto pos0 = args.positionals();
  if (pos0.size() < 2)
    return fail(make_error(Errc::invalid_argument,
                           "usage: wb story (new|append|fork|edit|continue|list|switch|show|label|bookmark|delete|"
                           "export|import) PROJECT ..."));
  const std::string verb = pos0[0], path = pos0[1];
  if (verb == "new") return story_new(args, path);
  if (verb == "import") return story_import(args, path);
  auto st = story_verb(args, verb, path);
  if (!st) return fail(st.error());
  return 0;
}

}  // namespace wb::cli
