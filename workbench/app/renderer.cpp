// GLFW + Vulkan + Dear ImGui 1.86 backends. The swapchain, its framebuffers
// and per-frame sync objects come from ImGui's ImGui_ImplVulkanH_Window
// helpers; the offscreen screenshot path is ours.
#include "app/renderer.hpp"

#include "app/frame_damage.hpp"
#include "app/x11_window.hpp"

#define GLFW_INCLUDE_NONE
#define GLFW_INCLUDE_VULKAN
#include <GLFW/glfw3.h>

#include <imgui.h>
#include <png.h>
#include <backends/imgui_impl_glfw.h>
#include <backends/imgui_impl_vulkan.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace wb::app {

namespace {

// ImGui's backend reports Vulkan failures through this hook; it cannot
// return an error, so we remember the first one and end_frame reports it.
VkResult g_last_vk_error = VK_SUCCESS;
void check_vk(VkResult r) {
  if (r < 0 && g_last_vk_error == VK_SUCCESS) g_last_vk_error = r;
}

Status vk_fail(const char* what, VkResult r) {
  return make_error(Errc::io, "Vulkan: {} failed (VkResult {})", what, static_cast<int>(r));
}

}  // namespace

struct Renderer::Impl {
  Log* log = nullptr;
  GLFWwindow* window = nullptr;
  bool glfw_up = false;
  bool imgui_up = false, glfw_backend_up = false, vk_backend_up = false;
  VkInstance instance = VK_NULL_HANDLE;
  VkPhysicalDevice gpu = VK_NULL_HANDLE;
  VkDevice device = VK_NULL_HANDLE;
  uint32_t queue_family = UINT32_MAX;
  VkQueue queue = VK_NULL_HANDLE;
  VkDescriptorPool pool = VK_NULL_HANDLE;
  VkSurfaceKHR surface = VK_NULL_HANDLE;
  ImGui_ImplVulkanH_Window wd;  // offscreen: only Width, Height, SurfaceFormat, RenderPass, ImageCount, ClearValue
  bool wd_up = false;
  // The offscreen frame (RendererOptions::offscreen): one image, as each frame
  // waits for its drawing (see render_offscreen).
  struct OffscreenFrame {
    VkImage image = VK_NULL_HANDLE;
    VkDeviceMemory memory = VK_NULL_HANDLE;
    VkImageView view = VK_NULL_HANDLE;
    VkFramebuffer framebuffer = VK_NULL_HANDLE;
    VkCommandPool pool = VK_NULL_HANDLE;
    VkCommandBuffer cmd = VK_NULL_HANDLE;
    VkFence fence = VK_NULL_HANDLE;
  };
  bool offscreen = false;
  OffscreenFrame off;
  uint32_t min_images = 2;
  bool rebuild = false;
  std::string device_name;
  bool cpu_device = false;
  bool measure_fill = false;
  Renderer::FrameTimings timings;
  // Partial frames (CPU renderers): only the tiles that changed since an image
  // was last drawn are cleared and drawn again, in a render pass that keeps the
  // image's contents (load_pass). `history` holds the last frames' changed
  // tiles, newest last; `drawn_at[i]` the frame that image i last showed (0: none).
  bool partial = false;
  FrameDamage damage;
  VkRenderPass load_pass = VK_NULL_HANDLE;
  static constexpr size_t kHistory = 8;
  std::vector<TileSet> history;
  std::vector<uint64_t> drawn_at;
  uint64_t frame_no = 0;
  // The region image `i` needs this frame (empty: none); full when it has no
  // usable contents. Also records that it will show this frame.
  TileSet region_for(uint32_t i);
  void report_partial_check(const std::vector<unsigned char>& whole, const std::vector<unsigned char>& shown);

  ~Impl();
  Status init_vulkan();
  Status create_offscreen(int w, int h);
  Status create_image(uint32_t w, uint32_t h, VkImage& image, VkDeviceMemory& mem, VkImageView& view);
  void destroy_offscreen();
  VkCommandPool frame_pool() const { return offscreen ? off.pool : wd.Frames[wd.FrameIndex].CommandPool; }
  VkCommandBuffer frame_cmd() const { return offscreen ? off.cmd : wd.Frames[wd.FrameIndex].CommandBuffer; }
  Status upload_fonts();
  void rebuild_swapchain();
  Status render(ImDrawData* dd);
  void record_draw(ImDrawData* dd, VkCommandBuffer cb, VkRenderPass pass, VkFramebuffer fb, uint32_t w, uint32_t h,
                   const TileSet* region = nullptr);
  Status render_offscreen(ImDrawData* dd, std::chrono::steady_clock::time_point t);
  Status present();
  Status screenshot(ImDrawData* dd, const std::string& path);
  Result<uint32_t> memory_type(uint32_t bits, VkMemoryPropertyFlags want) const;
  // Memory for `req` in a type with the `want` flags (bound by the caller).
  Status allocate(const VkMemoryRequirements& req, VkMemoryPropertyFlags want, VkDeviceMemory& mem);
};

Renderer::Impl::~Impl() {
  if (device) vkDeviceWaitIdle(device);
  if (vk_backend_up) ImGui_ImplVulkan_Shutdown();
  if (glfw_backend_up) ImGui_ImplGlfw_Shutdown();
  if (imgui_up) ImGui::DestroyContext();
  if (wd_up) ImGui_ImplVulkanH_DestroyWindow(instance, device, &wd, nullptr);
  else if (surface) vkDestroySurfaceKHR(instance, surface, nullptr);
  if (offscreen && device) {
    destroy_offscreen();
    if (wd.RenderPass) vkDestroyRenderPass(device, wd.RenderPass, nullptr);
  }
  if (load_pass) vkDestroyRenderPass(device, load_pass, nullptr);
  if (pool) vkDestroyDescriptorPool(device, pool, nullptr);
  if (device) vkDestroyDevice(device, nullptr);
  if (instance) vkDestroyInstance(instance, nullptr);
  if (window) glfwDestroyWindow(window);
  if (glfw_up) glfwTerminate();
}

Status Renderer::Impl::init_vulkan() {
  uint32_t n_ext = 0;
  const char** ext = offscreen ? nullptr : glfwGetRequiredInstanceExtensions(&n_ext);
  if (!ext && !offscreen) return make_error(Errc::unsupported, "GLFW found no Vulkan surface support for this display");
  VkApplicationInfo app{};
  app.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO;
  app.pApplicationName = "rwkv-workbench";
  app.apiVersion = VK_API_VERSION_1_1;
  VkInstanceCreateInfo ici{};
  ici.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO;
  ici.pApplicationInfo = &app;
  ici.enabledExtensionCount = n_ext;
  ici.ppEnabledExtensionNames = ext;
  if (VkResult r = vkCreateInstance(&ici, nullptr, &instance); r != VK_SUCCESS) return vk_fail("vkCreateInstance", r);

  if (!offscreen)
    if (VkResult r = glfwCreateWindowSurface(instance, window, nullptr, &surface); r != VK_SUCCESS)
      return vk_fail("glfwCreateWindowSurface", r);

  uint32_t n_gpu = 0;
  vkEnumeratePhysicalDevices(instance, &n_gpu, nullptr);
  std::vector<VkPhysicalDevice> gpus(n_gpu);
  vkEnumeratePhysicalDevices(instance, &n_gpu, gpus.data());
  // Prefer a discrete GPU, then integrated, then anything (lavapipe is a CPU
  // device and must work: it is what headless machines and tests have).
  int best_rank = -1;
  for (VkPhysicalDevice g : gpus) {
    uint32_t nq = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(g, &nq, nullptr);
    std::vector<VkQueueFamilyProperties> qs(nq);
    vkGetPhysicalDeviceQueueFamilyProperties(g, &nq, qs.data());
    uint32_t fam = UINT32_MAX;
    for (uint32_t i = 0; i < nq; ++i) {
      VkBool32 present = offscreen ? VK_TRUE : VK_FALSE;
      if (!offscreen) vkGetPhysicalDeviceSurfaceSupportKHR(g, i, surface, &present);
      if ((qs[i].queueFlags & VK_QUEUE_GRAPHICS_BIT) && present) { fam = i; break; }
    }
    if (fam == UINT32_MAX) continue;
    VkPhysicalDeviceProperties p;
    vkGetPhysicalDeviceProperties(g, &p);
    int rank = p.deviceType == VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU     ? 3
               : p.deviceType == VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU ? 2
                                                                        : 1;
    if (rank > best_rank) {
      best_rank = rank;
      gpu = g;
      queue_family = fam;
      device_name = p.deviceName;
      cpu_device = p.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU;
    }
  }
  if (!gpu) return make_error(Errc::unsupported, "no Vulkan device can draw to this window ({} devices found)", n_gpu);

  const float prio = 1.0f;
  VkDeviceQueueCreateInfo qci{};
  qci.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO;
  qci.queueFamilyIndex = queue_family;
  qci.queueCount = 1;
  qci.pQueuePriorities = &prio;
  const char* dev_ext[] = {VK_KHR_SWAPCHAIN_EXTENSION_NAME};
  VkDeviceCreateInfo dci{};
  dci.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO;
  dci.queueCreateInfoCount = 1;
  dci.pQueueCreateInfos = &qci;
  dci.enabledExtensionCount = offscreen ? 0 : 1;
  dci.ppEnabledExtensionNames = dev_ext;
  if (VkResult r = vkCreateDevice(gpu, &dci, nullptr, &device); r != VK_SUCCESS) return vk_fail("vkCreateDevice", r);
  vkGetDeviceQueue(device, queue_family, 0, &queue);

  VkDescriptorPoolSize sizes[] = {{VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER, 64}};
  VkDescriptorPoolCreateInfo pci{};
  pci.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO;
  pci.flags = VK_DESCRIPTOR_POOL_CREATE_FREE_DESCRIPTOR_SET_BIT;
  pci.maxSets = 64;
  pci.poolSizeCount = 1;
  pci.pPoolSizes = sizes;
  if (VkResult r = vkCreateDescriptorPool(device, &pci, nullptr, &pool); r != VK_SUCCESS)
    return vk_fail("vkCreateDescriptorPool", r);

  wd.ClearValue.color.float32[0] = 0.10f;
  wd.ClearValue.color.float32[1] = 0.10f;
  wd.ClearValue.color.float32[2] = 0.12f;
  wd.ClearValue.color.float32[3] = 1.0f;
  int w = 0, h = 0;
  glfwGetFramebufferSize(window, &w, &h);
  if (offscreen) return create_offscreen(w, h);
  wd.Surface = surface;
  const VkFormat formats[] = {VK_FORMAT_B8G8R8A8_UNORM, VK_FORMAT_R8G8B8A8_UNORM};
  wd.SurfaceFormat = ImGui_ImplVulkanH_SelectSurfaceFormat(gpu, surface, formats, 2, VK_COLORSPACE_SRGB_NONLINEAR_KHR);
  // FIFO is always available; MAILBOX avoids blocking on a display that does
  // not refresh (Xvfb) while still never tearing.
  const VkPresentModeKHR modes[] = {VK_PRESENT_MODE_MAILBOX_KHR, VK_PRESENT_MODE_FIFO_KHR};
  wd.PresentMode = ImGui_ImplVulkanH_SelectPresentMode(gpu, surface, modes, 2);
  ImGui_ImplVulkanH_CreateOrResizeWindow(instance, gpu, device, &wd, queue_family, nullptr, w, h, min_images);
  wd_up = true;
  return {};
}

// The render pass of the offscreen images: the swapchain's (one colour
// attachment, cleared, stored) ending in TRANSFER_SRC so a frame can be read back.
// `keep`: the image's contents are loaded instead (partial frames), from
// `final_layout`, where the last frame left it. Compatible with ImGui's pass
// (only load operations and layouts differ), so its pipeline draws in either.
static Result<VkRenderPass> make_render_pass(VkDevice device, VkFormat fmt, bool keep = false,
                                             VkImageLayout final_layout = VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL) {
  VkAttachmentDescription att{};
  att.format = fmt;
  att.samples = VK_SAMPLE_COUNT_1_BIT;
  att.loadOp = keep ? VK_ATTACHMENT_LOAD_OP_LOAD : VK_ATTACHMENT_LOAD_OP_CLEAR;
  att.storeOp = VK_ATTACHMENT_STORE_OP_STORE;
  att.stencilLoadOp = VK_ATTACHMENT_LOAD_OP_DONT_CARE;
  att.stencilStoreOp = VK_ATTACHMENT_STORE_OP_DONT_CARE;
  att.initialLayout = keep ? final_layout : VK_IMAGE_LAYOUT_UNDEFINED;
  att.finalLayout = final_layout;
  VkAttachmentReference ref{0, VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL};
  VkSubpassDescription sub{};
  sub.pipelineBindPoint = VK_PIPELINE_BIND_POINT_GRAPHICS;
  sub.colorAttachmentCount = 1;
  sub.pColorAttachments = &ref;
  VkSubpassDependency dep{};
  dep.srcSubpass = VK_SUBPASS_EXTERNAL;
  dep.dstSubpass = 0;
  dep.srcStageMask = VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT;
  dep.dstStageMask = VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT;
  dep.srcAccessMask = 0;
  dep.dstAccessMask = VK_ACCESS_COLOR_ATTACHMENT_WRITE_BIT;
  VkRenderPassCreateInfo rpi{};
  rpi.sType = VK_STRUCTURE_TYPE_RENDER_PASS_CREATE_INFO;
  rpi.attachmentCount = 1;
  rpi.pAttachments = &att;
  rpi.subpassCount = 1;
  rpi.pSubpasses = &sub;
  rpi.dependencyCount = 1;
  rpi.pDependencies = &dep;
  VkRenderPass pass = VK_NULL_HANDLE;
  if (VkResult r = vkCreateRenderPass(device, &rpi, nullptr, &pass); r != VK_SUCCESS)
    return vk_fail("vkCreateRenderPass", r).take_error();
  return pass;
}

// A colour image of the frame's format with its memory and view.
Status Renderer::Impl::create_image(uint32_t w, uint32_t h, VkImage& image, VkDeviceMemory& mem, VkImageView& view) {
  const VkFormat fmt = wd.SurfaceFormat.format;
  VkImageCreateInfo ii{};
  ii.sType = VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO;
  ii.imageType = VK_IMAGE_TYPE_2D;
  ii.format = fmt;
  ii.extent = {w, h, 1};
  ii.mipLevels = 1;
  ii.arrayLayers = 1;
  ii.samples = VK_SAMPLE_COUNT_1_BIT;
  ii.tiling = VK_IMAGE_TILING_OPTIMAL;
  ii.usage = VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT | VK_IMAGE_USAGE_TRANSFER_SRC_BIT;
  if (VkResult r = vkCreateImage(device, &ii, nullptr, &image); r != VK_SUCCESS) return vk_fail("vkCreateImage", r);
  VkMemoryRequirements req;
  vkGetImageMemoryRequirements(device, image, &req);
  WB_CHECK(allocate(req, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, mem));
  vkBindImageMemory(device, image, mem, 0);
  VkImageViewCreateInfo vi{};
  vi.sType = VK_STRUCTURE_TYPE_IMAGE_VIEW_CREATE_INFO;
  vi.image = image;
  vi.viewType = VK_IMAGE_VIEW_TYPE_2D;
  vi.format = fmt;
  vi.subresourceRange = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 1, 0, 1};
  if (VkResult r = vkCreateImageView(device, &vi, nullptr, &view); r != VK_SUCCESS) return vk_fail("vkCreateImageView", r);
  return {};
}

Status Renderer::Impl::create_offscreen(int w, int h) {
  if (w <= 0 || h <= 0) return make_error(Errc::unsupported, "the window has no size ({}x{})", w, h);
  wd.SurfaceFormat.format = VK_FORMAT_R8G8B8A8_UNORM;
  if (!wd.RenderPass) {
    WB_TRY(pass, make_render_pass(device, wd.SurfaceFormat.format));
    wd.RenderPass = pass;
  }
  wd.Width = w;
  wd.Height = h;
  wd.ImageCount = 2;  // what ImGui's backend rotates its vertex buffers over (it needs 2 or more)
  OffscreenFrame& f = off;
  {
    WB_CHECK(create_image(static_cast<uint32_t>(w), static_cast<uint32_t>(h), f.image, f.memory, f.view));
    VkFramebufferCreateInfo fi{};
    fi.sType = VK_STRUCTURE_TYPE_FRAMEBUFFER_CREATE_INFO;
    fi.renderPass = wd.RenderPass;
    fi.attachmentCount = 1;
    fi.pAttachments = &f.view;
    fi.width = static_cast<uint32_t>(w);
    fi.height = static_cast<uint32_t>(h);
    fi.layers = 1;
    if (VkResult r = vkCreateFramebuffer(device, &fi, nullptr, &f.framebuffer); r != VK_SUCCESS)
      return vk_fail("vkCreateFramebuffer", r);
    VkCommandPoolCreateInfo cpi{};
    cpi.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO;
    cpi.queueFamilyIndex = queue_family;
    if (VkResult r = vkCreateCommandPool(device, &cpi, nullptr, &f.pool); r != VK_SUCCESS)
      return vk_fail("vkCreateCommandPool", r);
    VkCommandBufferAllocateInfo cai{};
    cai.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO;
    cai.commandPool = f.pool;
    cai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
    cai.commandBufferCount = 1;
    if (VkResult r = vkAllocateCommandBuffers(device, &cai, &f.cmd); r != VK_SUCCESS)
      return vk_fail("vkAllocateCommandBuffers", r);
    VkFenceCreateInfo fci{};
    fci.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO;
    if (VkResult r = vkCreateFence(device, &fci, nullptr, &f.fence); r != VK_SUCCESS) return vk_fail("vkCreateFence", r);
  }
  return {};
}

void Renderer::Impl::destroy_offscreen() {
  vkDeviceWaitIdle(device);
  OffscreenFrame& f = off;
  if (f.fence) vkDestroyFence(device, f.fence, nullptr);
  if (f.pool) vkDestroyCommandPool(device, f.pool, nullptr);
  if (f.framebuffer) vkDestroyFramebuffer(device, f.framebuffer, nullptr);
  if (f.view) vkDestroyImageView(device, f.view, nullptr);
  if (f.image) vkDestroyImage(device, f.image, nullptr);
  if (f.memory) vkFreeMemory(device, f.memory, nullptr);
  f = OffscreenFrame{};
}

Status Renderer::Impl::upload_fonts() {
  VkCommandPool cp = frame_pool();
  VkCommandBuffer cb = frame_cmd();
  if (VkResult r = vkResetCommandPool(device, cp, 0); r != VK_SUCCESS) return vk_fail("vkResetCommandPool", r);
  VkCommandBufferBeginInfo bi{};
  bi.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO;
  bi.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
  vkBeginCommandBuffer(cb, &bi);
  if (!ImGui_ImplVulkan_CreateFontsTexture(cb)) return make_error(Errc::io, "Vulkan: cannot create the font texture");
  vkEndCommandBuffer(cb);
  VkSubmitInfo si{};
  si.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO;
  si.commandBufferCount = 1;
  si.pCommandBuffers = &cb;
  if (VkResult r = vkQueueSubmit(queue, 1, &si, VK_NULL_HANDLE); r != VK_SUCCESS) return vk_fail("vkQueueSubmit", r);
  vkDeviceWaitIdle(device);
  ImGui_ImplVulkan_DestroyFontUploadObjects();
  return {};
}

void Renderer::Impl::rebuild_swapchain() {
  int w = 0, h = 0;
  glfwGetFramebufferSize(window, &w, &h);
  if (w <= 0 || h <= 0) return;  // minimised: keep the old one until it has a size again
  if (offscreen) {
    destroy_offscreen();
    if (Status st = create_offscreen(w, h); !st) log->error("offscreen images at {}x{}: {}", w, h, st.error().message);
    drawn_at.clear();
    rebuild = false;
    return;
  }
  ImGui_ImplVulkan_SetMinImageCount(min_images);
  ImGui_ImplVulkanH_CreateOrResizeWindow(instance, gpu, device, &wd, queue_family, nullptr, w, h, min_images);
  wd.FrameIndex = 0;
  drawn_at.clear();  // new images: nothing drawn in them yet
  rebuild = false;
  log->debug("swapchain recreated at {}x{}", w, h);
}

namespace {
using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point& t) {
  auto now = Clock::now();
  double ms = std::chrono::duration<double, std::milli>(now - t).count();
  t = now;
  return ms;
}
// Pixels covered by the frame's triangles, each clipped to its command's clip
// rectangle by the share of its bounding box inside it (an estimate, cheap
// enough for every frame): on a CPU renderer the fragment work follows it.
double covered_pixels(const ImDrawData* dd) {
  double px = 0;
  for (int l = 0; l < dd->CmdListsCount; ++l) {
    const ImDrawList* list = dd->CmdLists[l];
    for (const ImDrawCmd& cmd : list->CmdBuffer) {
      if (cmd.UserCallback) continue;
      const ImVec4 c = cmd.ClipRect;
      for (unsigned i = 0; i + 2 < cmd.ElemCount; i += 3) {
        const ImVec2& a = list->VtxBuffer[cmd.VtxOffset + list->IdxBuffer[cmd.IdxOffset + i]].pos;
        const ImVec2& b = list->VtxBuffer[cmd.VtxOffset + list->IdxBuffer[cmd.IdxOffset + i + 1]].pos;
        const ImVec2& d = list->VtxBuffer[cmd.VtxOffset + list->IdxBuffer[cmd.IdxOffset + i + 2]].pos;
        const double area = 0.5 * std::fabs(double(b.x - a.x) * (d.y - a.y) - double(d.x - a.x) * (b.y - a.y));
        const float x0 = std::min({a.x, b.x, d.x}), x1 = std::max({a.x, b.x, d.x});
        const float y0 = std::min({a.y, b.y, d.y}), y1 = std::max({a.y, b.y, d.y});
        const double bw = x1 - x0, bh = y1 - y0;
        const double iw = std::min(x1, c.z) - std::max(x0, c.x), ih = std::min(y1, c.w) - std::max(y0, c.y);
        if (iw <= 0 || ih <= 0 || bw <= 0 || bh <= 0) continue;
        px += area * (iw * ih) / (bw * bh);
      }
    }
  }
  return px;
}
}  // namespace

// Begins `cb` and records `dd` drawn into `fb` (cleared first); the caller ends it.
// With `region` (partial frames), `pass` keeps the image's contents and only the
// region is cleared and drawn: every command is cut to each of the region's
// disjoint rectangles it meets, in order, so each pixel sees the same draws, in
// the same order, as in a whole frame.
void Renderer::Impl::record_draw(ImDrawData* dd, VkCommandBuffer cb, VkRenderPass pass, VkFramebuffer fb, uint32_t w,
                                 uint32_t h, const TileSet* region) {
  VkCommandBufferBeginInfo bi{};
  bi.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO;
  bi.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
  vkBeginCommandBuffer(cb, &bi);
  if (region && region->empty()) return;  // nothing changed in this image
  VkRenderPassBeginInfo rp{};
  rp.sType = VK_STRUCTURE_TYPE_RENDER_PASS_BEGIN_INFO;
  rp.renderPass = pass;
  rp.framebuffer = fb;
  rp.renderArea.extent = {w, h};
  rp.clearValueCount = 1;
  rp.pClearValues = &wd.ClearValue;
  vkCmdBeginRenderPass(cb, &rp, VK_SUBPASS_CONTENTS_INLINE);
  if (!region) {
    ImGui_ImplVulkan_RenderDrawData(dd, cb);
    vkCmdEndRenderPass(cb);
    return;
  }
  const std::vector<IRect> rects = region->rects();
  std::vector<VkClearRect> clears;
  for (const IRect& r : rects)
    clears.push_back({{{r.x0, r.y0}, {static_cast<uint32_t>(r.x1 - r.x0), static_cast<uint32_t>(r.y1 - r.y0)}}, 0, 1});
  VkClearAttachment ca{VK_IMAGE_ASPECT_COLOR_BIT, 0, wd.ClearValue};
  vkCmdClearAttachments(cb, 1, &ca, static_cast<uint32_t>(clears.size()), clears.data());
  // The rectangles in ImGui's coordinates (clip rectangles are in those).
  const ImVec2 off = dd->DisplayPos, sc = dd->FramebufferScale;
  std::vector<ImVec4> cuts;
  for (const IRect& r : rects)
    cuts.push_back({r.x0 / sc.x + off.x, r.y0 / sc.y + off.y, r.x1 / sc.x + off.x, r.y1 / sc.y + off.y});
  std::vector<ImVector<ImDrawCmd>> cut_cmds(static_cast<size_t>(dd->CmdListsCount));
  for (int l = 0; l < dd->CmdListsCount; ++l) {
    ImVector<ImDrawCmd>& out = cut_cmds[static_cast<size_t>(l)];
    for (const ImDrawCmd& cmd : dd->CmdLists[l]->CmdBuffer) {
      for (const ImVec4& k : cuts) {
        ImDrawCmd part = cmd;
        part.ClipRect = {std::max(cmd.ClipRect.x, k.x), std::max(cmd.ClipRect.y, k.y), std::min(cmd.ClipRect.z, k.z),
                         std::min(cmd.ClipRect.w, k.w)};
        if (part.ClipRect.z > part.ClipRect.x && part.ClipRect.w > part.ClipRect.y) out.push_back(part);
      }
    }
    dd->CmdLists[l]->CmdBuffer.swap(out);
  }
  ImGui_ImplVulkan_RenderDrawData(dd, cb);
  for (int l = 0; l < dd->CmdListsCount; ++l) dd->CmdLists[l]->CmdBuffer.swap(cut_cmds[static_cast<size_t>(l)]);
  vkCmdEndRenderPass(cb);
}

// Compares the frame shown (partial frames) with a whole frame of the same draw
// data (the screenshot), both in the frame's byte order; logs the result.
void Renderer::Impl::report_partial_check(const std::vector<unsigned char>& whole,
                                          const std::vector<unsigned char>& shown) {
  if (shown.size() != whole.size()) {
    log->error("partial frames: the frame shown has {} bytes, a whole frame {}", shown.size(), whole.size());
    return;
  }
  long differ = 0;
  for (std::size_t i = 0; i + 3 < whole.size(); i += 4) differ += std::memcmp(&whole[i], &shown[i], 3) != 0;
  if (differ) log->error("partial frames: {} pixels of the frame shown differ from a whole frame", differ);
  else log->info("partial frames: the frame shown equals a whole frame ({})", offscreen ? "offscreen" : "on screen");
}

TileSet Renderer::Impl::region_for(uint32_t i) {
  TileSet region(wd.Width, wd.Height);
  if (drawn_at.size() <= i) drawn_at.resize(i + 1, 0);
  const uint64_t age = drawn_at[i] ? frame_no - drawn_at[i] : UINT64_MAX;  // frames since it was drawn
  if (age > history.size()) region.fill();
  else
    for (size_t k = history.size() - age; k < history.size(); ++k) region.add(history[k]);
  drawn_at[i] = frame_no;
  return region;
}

Status Renderer::Impl::render(ImDrawData* dd) {
  timings = {};
  if (measure_fill) timings.fill_px = covered_pixels(dd);
  // The changed tiles: for partial frames, and for the frame log (whole frames
  // skip the comparison otherwise).
  if (partial || measure_fill) {
    TileSet changed = damage.update(*dd);
    timings.damage_px = static_cast<double>(changed.pixels());
    history.push_back(std::move(changed));
    if (history.size() > kHistory) history.erase(history.begin());
  }
  ++frame_no;
  timings.vertices = dd->TotalVtxCount;
  timings.indices = dd->TotalIdxCount;
  timings.draw_lists = dd->CmdListsCount;
  auto t = Clock::now();
  if (offscreen) return render_offscreen(dd, t);
  VkSemaphore acquired = wd.FrameSemaphores[wd.SemaphoreIndex].ImageAcquiredSemaphore;
  VkSemaphore done = wd.FrameSemaphores[wd.SemaphoreIndex].RenderCompleteSemaphore;
  VkResult r = vkAcquireNextImageKHR(device, wd.Swapchain, UINT64_MAX, acquired, VK_NULL_HANDLE, &wd.FrameIndex);
  if (r == VK_ERROR_OUT_OF_DATE_KHR || r == VK_SUBOPTIMAL_KHR) { rebuild = true; return {}; }
  if (r != VK_SUCCESS) return vk_fail("vkAcquireNextImageKHR", r);
  timings.acquire = ms_since(t);
  ImGui_ImplVulkanH_Frame* fd = &wd.Frames[wd.FrameIndex];
  vkWaitForFences(device, 1, &fd->Fence, VK_TRUE, UINT64_MAX);
  timings.fence = ms_since(t);
  vkResetFences(device, 1, &fd->Fence);
  vkResetCommandPool(device, fd->CommandPool, 0);
  if (partial) {
    const TileSet region = region_for(wd.FrameIndex);
    timings.drawn_px = region.full() ? double(wd.Width) * wd.Height : double(region.pixels());
    if (region.full())  // no usable contents: a whole frame, ImGui's clearing pass
      record_draw(dd, fd->CommandBuffer, wd.RenderPass, fd->Framebuffer, static_cast<uint32_t>(wd.Width),
                  static_cast<uint32_t>(wd.Height));
    else
      record_draw(dd, fd->CommandBuffer, load_pass, fd->Framebuffer, static_cast<uint32_t>(wd.Width),
                  static_cast<uint32_t>(wd.Height), &region);
  } else {
    timings.drawn_px = double(wd.Width) * wd.Height;
    record_draw(dd, fd->CommandBuffer, wd.RenderPass, fd->Framebuffer, static_cast<uint32_t>(wd.Width),
                static_cast<uint32_t>(wd.Height));
  }
  vkEndCommandBuffer(fd->CommandBuffer);
  timings.record = ms_since(t);
  VkPipelineStageFlags stage = VK_PIPELINE_STAGE_COLOR_ATTACHMENT_OUTPUT_BIT;
  VkSubmitInfo si{};
  si.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO;
  si.waitSemaphoreCount = 1;
  si.pWaitSemaphores = &acquired;
  si.pWaitDstStageMask = &stage;
  si.commandBufferCount = 1;
  si.pCommandBuffers = &fd->CommandBuffer;
  si.signalSemaphoreCount = 1;
  si.pSignalSemaphores = &done;
  if (r = vkQueueSubmit(queue, 1, &si, fd->Fence); r != VK_SUCCESS) return vk_fail("vkQueueSubmit", r);
  timings.submit = ms_since(t);
  Status st = present();
  timings.present = ms_since(t);
  return st;
}

// Draws into our image, submits and waits for it; nothing is presented
// (nothing shows).
Status Renderer::Impl::render_offscreen(ImDrawData* dd, std::chrono::steady_clock::time_point t) {
  OffscreenFrame& f = off;
  if (!f.framebuffer) return make_error(Errc::io, "no offscreen image to draw into");
  vkResetFences(device, 1, &f.fence);
  vkResetCommandPool(device, f.pool, 0);
  const TileSet region = partial ? region_for(0) : TileSet();
  const bool whole = !partial || region.full();
  timings.drawn_px = whole ? double(wd.Width) * wd.Height : double(region.pixels());
  record_draw(dd, f.cmd, whole ? wd.RenderPass : load_pass, f.framebuffer, static_cast<uint32_t>(wd.Width),
              static_cast<uint32_t>(wd.Height), whole ? nullptr : &region);
  vkEndCommandBuffer(f.cmd);
  timings.record = ms_since(t);
  VkSubmitInfo si{};
  si.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO;
  si.commandBufferCount = 1;
  si.pCommandBuffers = &f.cmd;
  if (VkResult r = vkQueueSubmit(queue, 1, &si, f.fence); r != VK_SUCCESS) return vk_fail("vkQueueSubmit", r);
  timings.submit = ms_since(t);
  // Waits for the frame to be drawn, where a window would present it: the frame
  // time then includes the drawing, as on screen (else it would hide in the
  // pause before the next frame, and frame times would measure the CPU alone).
  vkWaitForFences(device, 1, &f.fence, VK_TRUE, UINT64_MAX);
  timings.present = ms_since(t);
  return {};
}

Status Renderer::Impl::present() {
  if (rebuild) return {};
  VkSemaphore done = wd.FrameSemaphores[wd.SemaphoreIndex].RenderCompleteSemaphore;
  VkPresentInfoKHR pi{};
  pi.sType = VK_STRUCTURE_TYPE_PRESENT_INFO_KHR;
  pi.waitSemaphoreCount = 1;
  pi.pWaitSemaphores = &done;
  pi.swapchainCount = 1;
  pi.pSwapchains = &wd.Swapchain;
  pi.pImageIndices = &wd.FrameIndex;
  VkResult r = vkQueuePresentKHR(queue, &pi);
  if (r == VK_ERROR_OUT_OF_DATE_KHR || r == VK_SUBOPTIMAL_KHR) { rebuild = true; return {}; }
  if (r != VK_SUCCESS) return vk_fail("vkQueuePresentKHR", r);
  wd.SemaphoreIndex = (wd.SemaphoreIndex + 1) % wd.ImageCount;
  return {};
}

Status Renderer::Impl::allocate(const VkMemoryRequirements& req, VkMemoryPropertyFlags want, VkDeviceMemory& mem) {
  WB_TRY(mt, memory_type(req.memoryTypeBits, want));
  VkMemoryAllocateInfo ai{};
  ai.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO;
  ai.allocationSize = req.size;
  ai.memoryTypeIndex = mt;
  if (VkResult r = vkAllocateMemory(device, &ai, nullptr, &mem); r != VK_SUCCESS) return vk_fail("vkAllocateMemory", r);
  return {};
}

Result<uint32_t> Renderer::Impl::memory_type(uint32_t bits, VkMemoryPropertyFlags want) const {
  VkPhysicalDeviceMemoryProperties mp;
  vkGetPhysicalDeviceMemoryProperties(gpu, &mp);
  for (uint32_t i = 0; i < mp.memoryTypeCount; ++i)
    if ((bits & (1u << i)) && (mp.memoryTypes[i].propertyFlags & want) == want) return i;
  return make_error(Errc::unsupported, "Vulkan: no memory type with flags {:#x}", want);
}

// Draws `dd` once more into an image we own (same format as the frames, so
// ImGui's pipeline fits its render pass) and copies it to host memory.
// Swapchain images cannot be read back portably (no TRANSFER_SRC usage).
Status Renderer::Impl::screenshot(ImDrawData* dd, const std::string& path) {
  vkDeviceWaitIdle(device);  // ImGui's vertex buffers rotate; make sure none is in use
  const uint32_t w = static_cast<uint32_t>(wd.Width), h = static_cast<uint32_t>(wd.Height);
  const VkFormat fmt = wd.SurfaceFormat.format;
  VkImage image = VK_NULL_HANDLE;
  VkDeviceMemory image_mem = VK_NULL_HANDLE, buf_mem = VK_NULL_HANDLE;
  VkImageView view = VK_NULL_HANDLE;
  VkRenderPass pass = VK_NULL_HANDLE;
  VkFramebuffer fb = VK_NULL_HANDLE;
  VkBuffer buf = VK_NULL_HANDLE, shown_buf = VK_NULL_HANDLE;
  VkDeviceMemory shown_mem = VK_NULL_HANDLE;
  VkCommandPool cp = VK_NULL_HANDLE;
  VkFence fence = VK_NULL_HANDLE;
  auto cleanup = [&] {
    if (fence) vkDestroyFence(device, fence, nullptr);
    if (cp) vkDestroyCommandPool(device, cp, nullptr);
    if (buf) vkDestroyBuffer(device, buf, nullptr);
    if (buf_mem) vkFreeMemory(device, buf_mem, nullptr);
    if (shown_buf) vkDestroyBuffer(device, shown_buf, nullptr);
    if (shown_mem) vkFreeMemory(device, shown_mem, nullptr);
    if (fb) vkDestroyFramebuffer(device, fb, nullptr);
    if (pass) vkDestroyRenderPass(device, pass, nullptr);
    if (view) vkDestroyImageView(device, view, nullptr);
    if (image) vkDestroyImage(device, image, nullptr);
    if (image_mem) vkFreeMemory(device, image_mem, nullptr);
  };
  auto fail = [&](const char* what, VkResult r) { cleanup(); return vk_fail(what, r); };

  if (Status st = create_image(w, h, image, image_mem, view); !st) {
    cleanup();
    return st;
  }
  // Compatible with the frames' render pass (same attachment format and
  // samples, same dependency), ending in TRANSFER_SRC for the copy below.
  auto rp_made = make_render_pass(device, fmt);
  if (!rp_made) {
    cleanup();
    return rp_made.error();
  }
  pass = *rp_made;
  VkFramebufferCreateInfo fi{};
  fi.sType = VK_STRUCTURE_TYPE_FRAMEBUFFER_CREATE_INFO;
  fi.renderPass = pass;
  fi.attachmentCount = 1;
  fi.pAttachments = &view;
  fi.width = w;
  fi.height = h;
  fi.layers = 1;
  if (VkResult r = vkCreateFramebuffer(device, &fi, nullptr, &fb); r != VK_SUCCESS) return fail("vkCreateFramebuffer", r);

  const VkDeviceSize bytes = VkDeviceSize(w) * h * 4;
  auto host_buffer = [&](VkBuffer& b, VkDeviceMemory& m) -> Status {
    VkBufferCreateInfo bci{};
    bci.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO;
    bci.size = bytes;
    bci.usage = VK_BUFFER_USAGE_TRANSFER_DST_BIT;
    if (VkResult r = vkCreateBuffer(device, &bci, nullptr, &b); r != VK_SUCCESS) return vk_fail("vkCreateBuffer", r);
    VkMemoryRequirements req;
    vkGetBufferMemoryRequirements(device, b, &req);
    WB_CHECK(allocate(req, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT, m));
    vkBindBufferMemory(device, b, m, 0);
    return {};
  };
  if (Status st = host_buffer(buf, buf_mem); !st) {
    cleanup();
    return st;
  }
  // Offscreen partial frames: the frame just shown is read back too, to check
  // that drawing only what changed gave the pixels a whole frame gives.
  const bool check_partial = offscreen && partial && off.image;
  if (check_partial)
    if (Status st = host_buffer(shown_buf, shown_mem); !st) {
      cleanup();
      return st;
    }

  VkCommandPoolCreateInfo cpi{};
  cpi.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO;
  cpi.queueFamilyIndex = queue_family;
  if (VkResult r = vkCreateCommandPool(device, &cpi, nullptr, &cp); r != VK_SUCCESS) return fail("vkCreateCommandPool", r);
  VkCommandBufferAllocateInfo cai{};
  cai.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO;
  cai.commandPool = cp;
  cai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
  cai.commandBufferCount = 1;
  VkCommandBuffer cb = VK_NULL_HANDLE;
  if (VkResult r = vkAllocateCommandBuffers(device, &cai, &cb); r != VK_SUCCESS) return fail("vkAllocateCommandBuffers", r);
  record_draw(dd, cb, pass, fb, w, h);
  VkBufferImageCopy region{};
  region.imageSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1};
  region.imageExtent = {w, h, 1};
  vkCmdCopyImageToBuffer(cb, image, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, buf, 1, &region);
  if (check_partial) vkCmdCopyImageToBuffer(cb, off.image, VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, shown_buf, 1, &region);
  vkEndCommandBuffer(cb);
  VkFenceCreateInfo fci{};
  fci.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO;
  if (VkResult r = vkCreateFence(device, &fci, nullptr, &fence); r != VK_SUCCESS) return fail("vkCreateFence", r);
  VkSubmitInfo si{};
  si.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO;
  si.commandBufferCount = 1;
  si.pCommandBuffers = &cb;
  if (VkResult r = vkQueueSubmit(queue, 1, &si, fence); r != VK_SUCCESS) return fail("vkQueueSubmit", r);
  vkWaitForFences(device, 1, &fence, VK_TRUE, UINT64_MAX);

  void* mapped = nullptr;
  if (VkResult r = vkMapMemory(device, buf_mem, 0, bytes, 0, &mapped); r != VK_SUCCESS) return fail("vkMapMemory", r);
  std::vector<unsigned char> rgba(static_cast<std::size_t>(bytes));
  std::memcpy(rgba.data(), mapped, rgba.size());
  vkUnmapMemory(device, buf_mem);
  if (check_partial) {
    if (VkResult r = vkMapMemory(device, shown_mem, 0, bytes, 0, &mapped); r != VK_SUCCESS) return fail("vkMapMemory", r);
    std::vector<unsigned char> shown(static_cast<const unsigned char*>(mapped),
                                     static_cast<const unsigned char*>(mapped) + bytes);
    vkUnmapMemory(device, shown_mem);
    report_partial_check(rgba, shown);
  } else if (partial && !offscreen) {
    // On screen the swapchain images cannot be read back; the X server's copy
    // of the window can (Xvfb, no compositor): once the last present is done.
    vkQueueWaitIdle(queue);
    std::vector<unsigned char> shown;
    if (read_x11_window(window, w, h, fmt == VK_FORMAT_B8G8R8A8_UNORM || fmt == VK_FORMAT_B8G8R8A8_SRGB, shown))
      report_partial_check(rgba, shown);
  }
  cleanup();
  const bool bgr = fmt == VK_FORMAT_B8G8R8A8_UNORM || fmt == VK_FORMAT_B8G8R8A8_SRGB;
  for (std::size_t i = 0; i < rgba.size(); i += 4) {
    if (bgr) std::swap(rgba[i], rgba[i + 2]);
    rgba[i + 3] = 255;  // the window is opaque
  }
  return write_png(path, rgba.data(), static_cast<int>(w), static_cast<int>(h));
}

// ---- Renderer ---------------------------------------------------------------

Result<std::unique_ptr<Renderer>> Renderer::create(const RendererOptions& opt, Log& log,
                                                   const std::function<void()>& setup_fonts) {
  std::unique_ptr<Renderer> r(new Renderer());
  r->impl_ = std::make_unique<Impl>();
  Impl& m = *r->impl_;
  m.log = &log;
  if (!glfwInit()) return make_error(Errc::unsupported, "GLFW cannot open the display");
  m.glfw_up = true;
  if (!glfwVulkanSupported()) return make_error(Errc::unsupported, "GLFW finds no Vulkan loader or driver");
  glfwWindowHint(GLFW_CLIENT_API, GLFW_NO_API);
  m.offscreen = opt.offscreen;
  if (opt.offscreen) glfwWindowHint(GLFW_VISIBLE, GLFW_FALSE);
  m.window = glfwCreateWindow(opt.width, opt.height, opt.title.c_str(), nullptr, nullptr);
  if (!m.window) return make_error(Errc::unsupported, "GLFW cannot create a {}x{} window", opt.width, opt.height);
  WB_CHECK(m.init_vulkan());
  // Partial frames on CPU renderers, where rasterising is most of a frame's
  // cost: WB_PARTIAL_FRAMES=0 draws every frame whole, =1 partial on any device.
  {
    const char* v = std::getenv("WB_PARTIAL_FRAMES");
    m.partial = v && *v ? *v == '1' : m.cpu_device;
    if (m.partial) {
      WB_TRY(pass, make_render_pass(m.device, m.wd.SurfaceFormat.format, true,
                                    m.offscreen ? VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL : VK_IMAGE_LAYOUT_PRESENT_SRC_KHR));
      m.load_pass = pass;
    }
  }
  log.info("Vulkan device: {}{}{}", m.device_name, m.offscreen ? " (offscreen: frames are drawn, not shown)" : "",
           m.partial ? " (partial frames: only what changed is drawn)" : "");

  IMGUI_CHECKVERSION();
  ImGui::CreateContext();
  m.imgui_up = true;
  ImGuiIO& io = ImGui::GetIO();
  io.IniFilename = nullptr;  // layout is ours; settings live in the app's JSON
  // No keyboard navigation mode: in ImGui 1.86 it takes Alt (menu layer) and
  // the arrows, which the app uses for tree navigation (Alt+arrows).
  ImGui::StyleColorsDark();
  // The main panes skip their own backgrounds while they tile the window
  // (views.hpp, place_window), so the clear colour is what a window background
  // over the old backdrop gave: the same pixels for one full-window fill less.
  {
    const ImVec4 bg = ImGui::GetStyle().Colors[ImGuiCol_WindowBg];
    float* c = m.wd.ClearValue.color.float32;
    c[0] = bg.x * bg.w + c[0] * (1.0f - bg.w);
    c[1] = bg.y * bg.w + c[1] * (1.0f - bg.w);
    c[2] = bg.z * bg.w + c[2] * (1.0f - bg.w);
  }
  if (!ImGui_ImplGlfw_InitForVulkan(m.window, true)) return make_error(Errc::io, "ImGui GLFW backend failed");
  m.glfw_backend_up = true;
  ImGui_ImplVulkan_InitInfo ii{};
  ii.Instance = m.instance;
  ii.PhysicalDevice = m.gpu;
  ii.Device = m.device;
  ii.QueueFamily = m.queue_family;
  ii.Queue = m.queue;
  ii.DescriptorPool = m.pool;
  ii.Subpass = 0;
  ii.MinImageCount = m.min_images;
  ii.ImageCount = m.wd.ImageCount;
  ii.MSAASamples = VK_SAMPLE_COUNT_1_BIT;
  ii.CheckVkResultFn = check_vk;
  if (!ImGui_ImplVulkan_Init(&ii, m.wd.RenderPass)) return make_error(Errc::io, "ImGui Vulkan backend failed");
  m.vk_backend_up = true;
  if (setup_fonts) setup_fonts();
  WB_CHECK(m.upload_fonts());
  return r;
}

Renderer::~Renderer() = default;

GLFWwindow* Renderer::window() const { return impl_->window; }
bool Renderer::should_close() const { return glfwWindowShouldClose(impl_->window); }
std::string Renderer::device_name() const { return impl_->device_name; }
bool Renderer::cpu_device() const { return impl_->cpu_device; }
int Renderer::width() const { return impl_->wd.Width; }
int Renderer::height() const { return impl_->wd.Height; }
const Renderer::FrameTimings& Renderer::last_timings() const { return impl_->timings; }
void Renderer::measure_fill(bool on) { impl_->measure_fill = on; }

void Renderer::set_size(int w, int h) {
  glfwSetWindowSize(impl_->window, w, h);
  impl_->rebuild = true;
}

void Renderer::poll_events(double wait_s) {
  if (wait_s > 0) glfwWaitEventsTimeout(wait_s);
  else glfwPollEvents();
}

void Renderer::begin_frame() {
  int w = 0, h = 0;
  glfwGetFramebufferSize(impl_->window, &w, &h);
  if (w > 0 && h > 0 && (w != impl_->wd.Width || h != impl_->wd.Height)) impl_->rebuild = true;
  if (impl_->rebuild) impl_->rebuild_swapchain();
  ImGui_ImplVulkan_NewFrame();
  ImGui_ImplGlfw_NewFrame();
  ImGui::NewFrame();
}

Status Renderer::end_frame(const std::string* screenshot) {
  impl_->timings = {};  // a minimised window renders nothing
  ImGui::Render();
  ImDrawData* dd = ImGui::GetDrawData();
  const bool minimised = dd->DisplaySize.x <= 0.0f || dd->DisplaySize.y <= 0.0f;
  if (!minimised) WB_CHECK(impl_->render(dd));
  if (screenshot && !minimised) WB_CHECK(impl_->screenshot(dd, *screenshot));
  if (g_last_vk_error != VK_SUCCESS) return vk_fail("ImGui's Vulkan backend", g_last_vk_error);
  return {};
}

Status write_png(const std::string& path, const unsigned char* rgba, int w, int h) {
  png_image img{};
  img.version = PNG_IMAGE_VERSION;
  img.width = static_cast<png_uint_32>(w);
  img.height = static_cast<png_uint_32>(h);
  img.format = PNG_FORMAT_RGBA;
  if (!png_image_write_to_file(&img, path.c_str(), 0, rgba, 0, nullptr)) {
    std::string why = img.message;
    png_image_free(&img);
    return make_error(Errc::io, "cannot write PNG {}: {}", path, why);
  }
  return {};
}

}  // namespace wb::app
