#include "herd/gui/plan_panel.hpp"

#include <QCheckBox>
#include <QComboBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

#include "herd/gui/command_line.hpp"

namespace herd::gui {

namespace {
QSpinBox* degree_box(QWidget* parent) {
  auto* box = new QSpinBox(parent);
  box->setRange(1, 1 << 20);
  return box;
}
QComboBox* choice_box(QWidget* parent, const QStringList& items) {
  auto* box = new QComboBox(parent);
  box->addItems(items);
  return box;
}
QString text(std::string_view s) { return QString::fromUtf8(s.data(), static_cast<int>(s.size())); }
}  // namespace

PlanPanel::PlanPanel(QWidget* parent) : QWidget(parent) {
  auto* form = new QFormLayout;
  tp = degree_box(this);
  cp = degree_box(this);
  pp = degree_box(this);
  virtual_stages = degree_box(this);
  dp = degree_box(this);
  micro_batch = degree_box(this);
  schedule = choice_box(this, {"gpipe", "1f1b", "interleaved", "llama3", "zero_bubble"});
  dp_sharding = choice_box(this, {"none", "zero1", "fsdp", "zero3"});
  recompute = choice_box(this, {"none", "selective", "full", "op"});
  tp_overlap = new QCheckBox("overlap TP with GEMMs", this);
  per_rank_box = new QCheckBox("per rank (every GPU)", this);
  per_rank_box->setToolTip("Simulate every GPU instead of one per pipeline stage (herd simulate --per-rank)");
  form->addRow("TP", tp);
  form->addRow("CP", cp);
  form->addRow("PP", pp);
  form->addRow("V (virtual stages)", virtual_stages);
  form->addRow("DP", dp);
  form->addRow("micro-batch", micro_batch);
  form->addRow("schedule", schedule);
  form->addRow("DP mode", dp_sharding);
  form->addRow("recompute", recompute);
  form->addRow(tp_overlap);
  form->addRow(per_rank_box);
  error_ = new QLabel(this);
  error_->setWordWrap(true);
  error_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  error_->setStyleSheet("color: #c0392b");
  error_->hide();
  auto* run = new QPushButton("Run", this);
  connect(run, &QPushButton::clicked, this, &PlanPanel::run_requested);
  auto* compare_label = new QLabel("Compare the step with B (overrides over this plan; empty: no B):", this);
  compare_label->setWordWrap(true);
  compare_step = new QLineEdit(this);
  compare_step->setPlaceholderText("e.g. plan.pp=8 plan.dp=256");
  compare_step->setToolTip(
      "Step B: the scenario with this plan and these overrides too (k=v k2=v2, as --set takes them). The step "
      "timeline shows A above B on one time axis, with the difference in one line. Shift+click a point of the "
      "plan explorer to compare its layout with the one shown.");
  connect(compare_step, &QLineEdit::returnPressed, this, &PlanPanel::run_requested);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(form);
  layout->addWidget(compare_label);
  layout->addWidget(compare_step);
  layout->addWidget(error_);
  layout->addWidget(run);
  layout->addStretch(1);
}

void PlanPanel::set_plan(const model::PlanSpec& plan) {
  reference_ = plan;
  show_plan(plan);
}

void PlanPanel::show_plan(const model::PlanSpec& plan) {
  tp->setValue(plan.tp);
  cp->setValue(plan.cp);
  pp->setValue(plan.pp);
  virtual_stages->setValue(plan.virtual_stages);
  dp->setValue(plan.dp);
  micro_batch->setValue(plan.micro_batch);
  schedule->setCurrentText(text(model::to_string(plan.schedule)));
  dp_sharding->setCurrentText(text(model::to_string(plan.dp_sharding)));
  recompute->setCurrentText(text(model::to_string(plan.recompute)));
  tp_overlap->setChecked(plan.tp_comm_overlap);
}

QStringList PlanPanel::overrides() const {
  QStringList out;
  auto number = [&](const char* key, QSpinBox* box, int reference) {
    if (box->value() != reference) out << QString("plan.%1=%2").arg(key).arg(box->value());
  };
  number("tp", tp, reference_.tp);
  number("cp", cp, reference_.cp);
  number("pp", pp, reference_.pp);
  number("virtual_stages", virtual_stages, reference_.virtual_stages);
  number("dp", dp, reference_.dp);
  number("micro_batch", micro_batch, reference_.micro_batch);
  auto choice = [&](const char* key, QComboBox* box, std::string_view reference) {
    if (box->currentText() != text(reference)) out << QString("plan.%1=%2").arg(key, box->currentText());
  };
  choice("schedule", schedule, model::to_string(reference_.schedule));
  choice("dp_sharding", dp_sharding, model::to_string(reference_.dp_sharding));
  choice("recompute", recompute, model::to_string(reference_.recompute));
  if (tp_overlap->isChecked() != reference_.tp_comm_overlap)
    out << QString("plan.tp_comm_overlap=%1").arg(tp_overlap->isChecked() ? "true" : "false");
  return out;
}

std::vector<std::string> PlanPanel::compare_overrides() const { return split_overrides(compare_step->text().toStdString()); }

void PlanPanel::set_compare_overrides(const std::vector<std::string>& overrides) {
  compare_step->setText(QString::fromStdString(join_overrides(overrides)));
}

bool PlanPanel::per_rank() const { return per_rank_box->isChecked(); }
void PlanPanel::set_per_rank(bool on) { per_rank_box->setChecked(on); }

void PlanPanel::show_error(const QString& message) {
  error_->setText(message);
  error_->setVisible(!message.isEmpty());
}

QString PlanPanel::error() const { return error_->isHidden() ? QString() : error_->text(); }

}  // namespace herd::gui
