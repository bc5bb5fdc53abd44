// The tree without a model: operations, undo/redo, non-destructive edits, JSON.
#include <catch2/catch.hpp>

#include <algorithm>

#include "core/tree/tree.hpp"
#include "core/tree/tree_json.hpp"
#include "helpers.hpp"

using namespace wb;
using namespace wb::tree;

namespace {

Node text_node(std::string_view s, std::string origin = "user") {
  Node n;
  n.text = std::string(s);
  n.tokens = test::bytes_of(s);
  n.origin = std::move(origin);
  return n;
}

// Everything that defines a node's content and position, for comparisons.
std::string dump(const Tree& t) {
  std::string s;
  for (NodeId id : t.ids()) {
    const Node* n = t.find(id);
    s += fmt::format("{}<{} [{}] '{}' {} {} {} {}\n", id, n->parent, fmt::join(n->children, ","), n->text,
                     n->tokens.size(), n->label, n->bookmark, n->metadata);
  }
  return s;
}

}  // namespace

TEST_CASE("append fork path text and labels", "[tree]") {
  Tree t;
  auto a = t.append(t.root(), text_node("Once upon "));
  REQUIRE(a.ok());
  auto b = t.append(*a, text_node("a time"));
  auto c = t.append(*a, text_node("a hill"));  // fork
  REQUIRE(b.ok());
  REQUIRE(c.ok());
  CHECK(t.path_text(*b) == "Once upon a time");
  CHECK(t.path_text(*c) == "Once upon a hill");
  CHECK(t.path_tokens(*c) == 16);
  CHECK(t.path_to_root(*c) == std::vector<NodeId>{t.root(), *a, *c});
  CHECK(t.find(*a)->children == std::vector<NodeId>{*b, *c});
  CHECK(t.leaves() == std::vector<NodeId>{*b, *c});
  REQUIRE(t.set_label(*c, "hill").ok());
  CHECK(t.find_by_label("hill") == std::vector<NodeId>{*c});
  CHECK(t.find_by_label("nothing").empty());
  CHECK_FALSE(t.append(999, text_node("x")).ok());
}

TEST_CASE("every operation is undone and redone exactly", "[tree]") {
  Tree t;
  std::vector<std::string> states{dump(t)};
  NodeId a = *t.append(t.root(), text_node("The keeper climbed the stairs."));
  states.push_back(dump(t));
  NodeId b = *t.append(a, text_node(" The lamp was out."));
  states.push_back(dump(t));
  NodeId c = *t.append(a, text_node(" The storm came."));
  states.push_back(dump(t));
  REQUIRE(t.move_sibling(c, 0).ok());
  states.push_back(dump(t));
  REQUIRE(t.set_label(b, "lamp").ok());
  states.push_back(dump(t));
  REQUIRE(t.set_bookmark(b, true).ok());
  states.push_back(dump(t));
  REQUIRE(t.set_metadata(c, R"({"plugin":"x"})").ok());
  states.push_back(dump(t));
  auto e = t.edit(a, 11, 11, text_node("ran down the stairs."));
  REQUIRE(e.ok());
  states.push_back(dump(t));
  REQUIRE(t.remove_subtree(c).ok());
  states.push_back(dump(t));
  CHECK(t.find(c) == nullptr);

  for (std::size_t i = states.size() - 1; i-- > 0;) {
    REQUIRE(t.undo().ok());
    CHECK(dump(t) == states[i]);
  }
  CHECK_FALSE(t.can_undo());
  CHECK_FALSE(t.undo().ok());
  for (std::size_t i = 1; i < states.size(); ++i) {
    REQUIRE(t.redo().ok());
    CHECK(dump(t) == states[i]);
  }
  CHECK_FALSE(t.redo().ok());
  // A new operation after an undo drops the redo history.
  REQUIRE(t.undo().ok());
  REQUIRE(t.append(b, text_node("!")).ok());
  CHECK_FALSE(t.can_redo());
}

TEST_CASE("editing splits the node and keeps the original as a branch", "[tree]") {
  Tree t;
  NodeId a = *t.append(t.root(), text_node("Call me Ishmael. Some years ago"));
  NodeId kid = *t.append(a, text_node(" - never mind how long"));
  const std::string before = t.path_text(kid);
  auto e = t.edit(a, 8, 8, text_node("Bob."));
  REQUIRE(e.ok());
  // The original path reads exactly as before, through the same ids.
  CHECK(t.path_text(kid) == before);
  CHECK(t.path_text(a) == "Call me Ishmael. Some years ago");
  CHECK(t.path_text(*e) == "Call me Bob.");
  NodeId front = t.find(a)->parent;
  CHECK(t.find(front)->text == "Call me ");
  CHECK(t.find(front)->children == std::vector<NodeId>{a, *e});
  CHECK(t.find(a)->text == "Ishmael. Some years ago");
  CHECK(t.find(kid)->parent == a);
  // One undo removes the branch and the split together.
  REQUIRE(t.undo().ok());
  CHECK(t.find(a)->parent == t.root());
  CHECK(t.find(a)->text == "Call me Ishmael. Some years ago");
  CHECK(t.find(front) == nullptr);
  // Edits at the ends: before the first token forks from the parent; after the last appends.
  auto e0 = t.edit(a, 0, 0, text_node("Hello"));
  REQUIRE(e0.ok());
  CHECK(t.find(*e0)->parent == t.root());
  auto e1 = t.edit(a, t.find(a)->tokens.size(), t.find(a)->text.size(), text_node("!"));
  REQUIRE(e1.ok());
  CHECK(t.find(*e1)->parent == a);
  CHECK_FALSE(t.edit(a, 99, 99, text_node("x")).ok());
  CHECK_FALSE(t.split(a, 0, 0).ok());
}

TEST_CASE("ids are never reused and dirty ids report every change", "[tree]") {
  Tree t;
  (void)t.take_dirty();
  NodeId a = *t.append(t.root(), text_node("x"));
  auto d = t.take_dirty();
  CHECK(std::find(d.begin(), d.end(), a) != d.end());
  REQUIRE(t.undo().ok());
  d = t.take_dirty();
  CHECK(std::find(d.begin(), d.end(), a) != d.end());
  CHECK(t.find(a) == nullptr);
  NodeId b = *t.append(t.root(), text_node("y"));
  CHECK(b != a);
  REQUIRE(t.redo().ok() == false);  // the append cleared the redo stack
}

TEST_CASE("from_nodes rejects inconsistent trees", "[tree]") {
  Node root;
  root.id = kRootId;
  Node a = text_node("a");
  a.id = 2;
  a.parent = kRootId;
  SECTION("good") {
    root.children = {2};
    CHECK(Tree::from_nodes({root, a}).ok());
  }
  SECTION("child not listed by its parent") { CHECK_FALSE(Tree::from_nodes({root, a}).ok()); }
  SECTION("missing parent") {
    a.parent = 7;
    CHECK_FALSE(Tree::from_nodes({root, a}).ok());
  }
  SECTION("duplicate id") {
    root.children = {2};
    CHECK_FALSE(Tree::from_nodes({root, a, a}).ok());
  }
  SECTION("cycle") {
    Node b = text_node("b");
    b.id = 3;
    b.parent = 2;
    b.children = {2};
    a.parent = 3;
    a.children = {3};
    CHECK_FALSE(Tree::from_nodes({root, a, b}).ok());
  }
  SECTION("no root") { CHECK_FALSE(Tree::from_nodes({a}).ok()); }
}

TEST_CASE("tree JSON round trip keeps everything", "[tree][json]") {
  Tree t;
  NodeId a = *t.append(t.root(), text_node("Caf\xc3\xa9 au lait, "));
  Node m = text_node("broken \xe2\x82", "model");  // a node ending inside a UTF-8 sequence
  m.sampler = "temperature = 0.9\n";
  m.seed = 1234;
  m.alternatives = {{{98, 0.5f}, {99, 0.25f}}, {}, {{3, 1.0f}}};
  NodeId b = *t.append(a, m);
  NodeId c = *t.append(a, text_node("s'il vous pla\xc3\xaet"));
  REQUIRE(t.set_label(c, "polite").ok());
  REQUIRE(t.set_bookmark(b, true).ok());
  REQUIRE(t.set_metadata(b, R"({"k": [1, 2]})").ok());
  REQUIRE(t.move_sibling(c, 0).ok());

  std::string j = to_json(t);
  auto back = from_json(j);
  REQUIRE(back.ok());
  CHECK(dump(*back) == dump(t));
  const Node* bb = back->find(b);
  REQUIRE(bb);
  CHECK(bb->text == m.text);
  CHECK(bb->tokens == m.tokens);
  CHECK(bb->alternatives == m.alternatives);
  CHECK(bb->seed == 1234);
  CHECK(bb->sampler == m.sampler);
  CHECK(bb->origin == "model");
  CHECK(bb->created_ms == t.find(b)->created_ms);
  CHECK(back->next_id() == t.next_id());
  CHECK(to_json(*back) == j);
}

TEST_CASE("tree JSON import refuses bad input with a reason", "[tree][json]") {
  auto bad = [](const std::string& s) {
    auto r = from_json(s);
    REQUIRE_FALSE(r.ok());
    return r.error().message;
  };
  CHECK(bad("not json").find("not valid JSON") != std::string::npos);
  CHECK(bad("[]").find("object") != std::string::npos);
  CHECK(bad(R"({"format":"other","version":1,"nodes":[]})").find("wb-tree") != std::string::npos);
  CHECK(bad(R"({"format":"wb-tree","version":2,"nodes":[]})").find("version") != std::string::npos);
  CHECK(bad(R"({"format":"wb-tree","version":1,"nodes":[]})").find("root") != std::string::npos);
  CHECK(bad(R"({"format":"wb-tree","version":1,"nodes":[{"id":1,"parent":0},{"id":2,"parent":5}]})")
            .find("parent 5") != std::string::npos);
  CHECK(bad(R"({"format":"wb-tree","version":1,"nodes":[{"id":1,"parent":0,"tokens":[-1]}]})").find("tokens") !=
        std::string::npos);
  CHECK(bad(R"({"format":"wb-tree","version":1,"nodes":[{"id":1,"parent":0,"text":5}]})").find("'text'") !=
        std::string::npos);
  CHECK(bad(R"({"format":"wb-tree","version":1,"nodes":[{"id":1,"parent":0},{"id":1,"parent":0}]})")
            .find("twice") != std::string::npos);
}
